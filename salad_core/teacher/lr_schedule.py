"""Learning-rate shape for the tiny teacher: linear warmup, then cosine decay to a floor.

Usage:
    from salad_core.teacher.lr_schedule import warmup_cosine
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(warmup=50, total=600, floor=0.1))

Warmup keeps AdamW's first, badly estimated steps small; decaying to a floor (not zero) is the
usual choice for short pretraining runs and makes the last steps settle the loss.
"""

import math
from collections.abc import Callable


def warmup_cosine(warmup: int, total: int, floor: float) -> Callable[[int], float]:
    """Multiplier of the peak LR at optimizer step ``step`` (0-based)."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor
