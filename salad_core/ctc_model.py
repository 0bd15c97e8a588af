"""A local transformers CTC model (wav2vec2, HuBERT, WavLM): loading rules and identity, shared.

Usage:
    model = LocalCTCModel.load("models/wav2vec2-base-960h", "cpu", role="aligner model", user="the forced aligner")
    model.processor, model.model, model.sample_rate, model.samples_per_frame
    model.model_info()                 # path, architecture, files_sha256, sample_rate (for manifests)
    model_identity(folder)             # architecture + files_sha256 without loading torch (for fingerprints)

Used by the quality gate's recognizer (``salad_core.tts.asr``) and the forced aligner
(``salad_core.alignment``), so both read a model folder the same way: local files only (the
pipeline runs offline, nothing is downloaded), a clear error when the folder has no config.json,
and Whisper refused (it is not a CTC model: 30 s windows and generation instead of per-frame
posteriors). torch and transformers are imported only when a model is loaded.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEIGHT_PATTERNS = ("*.safetensors", "*.bin")


def model_files_sha256(folder: Path) -> str:
    """One hash over config and weight files: the identity of the model for the fingerprint."""
    digest = hashlib.sha256()
    files = [folder / "config.json", *sorted(p for pat in WEIGHT_PATTERNS for p in folder.glob(pat))]
    for path in files:
        if path.is_file():
            digest.update(path.name.encode() + b"\0")
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 22), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def model_identity(folder: str | Path, role: str = "model") -> dict[str, str]:
    """Architecture and files hash of a model folder, read without loading the model."""
    folder = Path(folder)
    config = _config_file(folder, role)
    return {"architecture": str(json.loads(config.read_text()).get("model_type")), "files_sha256": model_files_sha256(folder)}


def _config_file(folder: Path, role: str) -> Path:
    config = folder / "config.json"
    if not config.is_file():
        raise FileNotFoundError(f"{role} folder {folder} has no config.json (expected a save_pretrained folder)")
    return config


@dataclass
class LocalCTCModel:
    """A CTC model and its processor, loaded from a local folder, in eval mode on ``device``."""

    path: Path
    processor: Any  # transformers processor: feature extractor + CTC tokenizer
    model: Any  # transformers *ForCTC module
    architecture: str
    sample_rate: int
    samples_per_frame: int | None  # input samples per output frame (product of the conv strides); None without a conv encoder

    @classmethod
    def load(cls, path: str | Path, device: str, *, role: str, user: str) -> "LocalCTCModel":
        """``role`` and ``user`` name the caller in errors: "{role} folder ... has no config.json",
        "... is a Whisper model; {user} supports CTC models"."""
        from transformers import AutoConfig, AutoModelForCTC, AutoProcessor

        path = Path(path)
        _config_file(path, role)
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        if config.model_type == "whisper":
            raise ValueError(f"{path} is a Whisper model; {user} supports CTC models (wav2vec2, HuBERT, WavLM)")
        strides = getattr(config, "conv_stride", None)
        processor = AutoProcessor.from_pretrained(path, local_files_only=True)
        return cls(
            path=path,
            processor=processor,
            model=AutoModelForCTC.from_pretrained(path, local_files_only=True).to(device).eval(),
            architecture=config.model_type,
            sample_rate=int(processor.feature_extractor.sampling_rate),
            samples_per_frame=math.prod(int(s) for s in strides) if strides else None,
        )

    def model_info(self) -> dict[str, Any]:
        """JSON-ready identity of the CTC model for manifests: path, architecture, SHA-256 of its files and input sample rate."""
        return {
            "path": str(self.path),
            "architecture": self.architecture,
            "files_sha256": model_files_sha256(self.path),
            "sample_rate": self.sample_rate,
        }
