"""The WSD learning-rate shape: linear warmup, constant, linear decay to 0 over the last steps.

Usage:
    from salad_core.training.schedule import wsd_factor
    factor = wsd_factor(warmup=500, total=24000, decay=4800)   # multiplier of each group's peak LR
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

Step numbers are optimizer steps already taken: factor(s) is the LR used for step s + 1.
With `decay == total` and `warmup == 0` this is Stage II's plain linear decay to 0. The decay
starts after `total - decay` steps: that is the Stage I checkpoint kept for Stage II (the LR it was
trained with never decayed).
"""

from collections.abc import Callable


def wsd_factor(warmup: int, total: int, decay: int) -> Callable[[int], float]:
    """Warmup-stable-decay LR multiplier by step: linear warmup to 1, flat, then linear decay to 0 over the last `decay` steps;
    ValueError if the phases do not fit in `total`."""
    if not 0 < decay <= total or not 0 <= warmup <= total - decay:
        raise ValueError(f"need 0 <= warmup ({warmup}) <= total - decay and 0 < decay ({decay}) <= total ({total})")
    decay_start = total - decay

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if step < decay_start:
            return 1.0
        return max(0.0, (total - step) / decay)

    return factor
