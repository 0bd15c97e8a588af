"""Settings for the synthesis stage, validated once, recorded in the manifest.

Usage:
    TTSConfig()                                                    # espeak-ng, offline default
    TTSConfig(backend="kokoro", voices=["af_heart"], kokoro_weights_dir="models/Kokoro-82M")
    TTSConfig(backend="kokoro", random_weights=True)               # test mode, says so everywhere

`voices=None` means the backend's own default: the paper's single voice (`af_heart`) for
Kokoro, a handful of English voices for espeak-ng.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from salad_core.tts.kokoro_config import KOKORO_REPO_ID


class TTSConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["espeak", "kokoro"] = "espeak"
    voices: list[str] | None = Field(default=None, min_length=1)
    seed: int = 0  # voice choice per row; Kokoro's vocoder noise; test-mode weights
    max_chars: int = Field(default=5000, gt=0)  # longer texts are quarantined by check_text

    # espeak-ng
    espeak_rate: int = Field(default=175, ge=80, le=450)  # words per minute
    espeak_pitch: int | None = Field(default=None, ge=0, le=100)  # None: the voice's own pitch

    # Kokoro
    kokoro_weights_dir: Path | None = None  # config.json, kokoro-v1_0.pth, voices/<name>.pt
    kokoro_repo_id: str = KOKORO_REPO_ID  # read from the HF cache when no folder is given
    kokoro_revision: str | None = None
    hf_cache_dir: Path | None = None  # None: huggingface_hub's default cache
    random_weights: bool = False  # test mode: seeded random Kokoro, output is noise
    device: str = "cpu"
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    speed: float = Field(default=1.0, gt=0.25, le=4.0)
