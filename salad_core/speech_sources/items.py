"""What every reader yields: one utterance's metadata plus a way to fetch its audio later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

WordTiming = dict  # {"word": str, "start": float, "end": float}, seconds from the utterance start


@dataclass
class SpeechItem:
    id: str
    text: str | None
    speaker: str | None
    origin: str  # file (and member/line) the item came from: named in quarantine reasons
    load: Callable[[], np.ndarray]  # 24 kHz mono float32; raises AudioDecodeError
    word_timings: list[WordTiming] | None = None
    timings_source: Literal["source", "aligner"] | None = None
    problem: str | None = None  # set by a reader when the item is broken before any audio is read
