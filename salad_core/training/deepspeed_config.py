"""The DeepSpeed config a TrainConfig asks for.

Usage:
    from salad_core.training.deepspeed_config import deepspeed_config, resolve_precision
    ds = deepspeed_config(cfg, on_gpu=torch.cuda.is_available())
    engine, *_ = deepspeed.initialize(model=module, optimizer=opt, lr_scheduler=sched, config=ds)

Our micro-batches are packed by positions, not counted in samples, so DeepSpeed's batch size is
nominal (1 per micro-step): what it controls is gradient accumulation (engine.step() only steps the
optimizer every `grad_accum` calls, and backward scales the loss by 1/grad_accum), ZeRO, precision,
clipping and offload. Optimizer offload keeps our torch AdamW (`zero_force_ds_cpu_optimizer: false`)
so no C++ op has to be compiled.
"""

from __future__ import annotations

from salad_core.training.config import TrainConfig


def resolve_precision(cfg: TrainConfig, on_gpu: bool) -> str:
    """The precision to train in: "auto" means bf16 on GPU and fp32 on CPU; an explicit setting is kept as is."""
    if cfg.precision == "auto":
        return "bf16" if on_gpu else "fp32"
    return cfg.precision


def deepspeed_config(cfg: TrainConfig, on_gpu: bool, world_size: int) -> dict:
    """DeepSpeed config dict for one sample per micro-batch, `grad_accum` micro-batches per step on each of `world_size` ranks;
    ValueError for optimizer offload with ZeRO stage 0."""
    zero: dict = {"stage": cfg.zero_stage}
    if cfg.offload_optimizer:
        if cfg.zero_stage == 0:
            raise ValueError("offload_optimizer needs zero_stage >= 1")
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": on_gpu}
    if cfg.zero_stage == 3:
        zero["stage3_gather_16bit_weights_on_model_save"] = True
    return {
        "train_micro_batch_size_per_gpu": 1,
        "gradient_accumulation_steps": cfg.grad_accum,
        "train_batch_size": cfg.grad_accum * world_size,
        "gradient_clipping": cfg.grad_clip,
        "zero_optimization": zero,
        "bf16": {"enabled": resolve_precision(cfg, on_gpu) == "bf16"},
        "zero_allow_untested_optimizer": True,
        "zero_force_ds_cpu_optimizer": False,
        "steps_per_print": 10**9,
        "wall_clock_breakdown": False,
    }
