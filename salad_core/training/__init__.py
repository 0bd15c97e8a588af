"""SALAD training (Stage I / Stage II) as plain Python over a DeepSpeed engine: no Prefect, no store.

Usage:
    from salad_core.training import TrainConfig, Mixture, SpeechSource, TextSource, train_loop
    cfg = TrainConfig.preset("tiny")              # or "3b" / "7b", stage=2 for Stage II
The task layer (tasks/train.py, tasks/train_worker.py) reads the artifacts, launches the processes
and stores checkpoints; everything here works on in-memory rows, tensors and a DeepSpeed engine.
"""

from salad_core.training.config import MixtureSource, TrainConfig
from salad_core.training.mixture import Mixture
from salad_core.training.rows import TrainingDataError
from salad_core.training.schedule import wsd_factor
from salad_core.training.sources import SpeechSource, TextSource, pack
from salad_core.training.trainer import TrainState, checkpoint_steps, train_loop

__all__ = [
    "Mixture",
    "MixtureSource",
    "SpeechSource",
    "TextSource",
    "TrainConfig",
    "TrainState",
    "TrainingDataError",
    "checkpoint_steps",
    "pack",
    "train_loop",
    "wsd_factor",
]
