"""ASR round trip for the quality gate: a local CTC model (wav2vec2, HuBERT, WavLM, ...) transcribes speech.

Usage:
    asr = LocalCTCRecognizer("models/wav2vec2-base-960h")   # a folder from save_pretrained / a HF snapshot
    texts = asr.transcribe([audio_24k, ...], sample_rate=24000)
    asr.model_info()          # for the manifest: path, architecture, SHA-256 of config and weights

Only local folders are read (the pipeline runs offline); nothing is downloaded. CTC models are
supported because they transcribe long clips in one pass with greedy decoding, which is
deterministic; Whisper (30 s windows, generation) is not supported here. torch and transformers
are imported only when a recognizer is built, so the gate without ASR stays light.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import soxr

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


class LocalCTCRecognizer:
    """Greedy CTC transcription with a transformers model loaded from a local folder."""

    def __init__(self, path: str | Path, device: str = "cpu", batch_size: int = 4) -> None:
        import torch
        from transformers import AutoConfig, AutoModelForCTC, AutoProcessor

        self.path = Path(path)
        if not (self.path / "config.json").is_file():
            raise FileNotFoundError(f"ASR model folder {self.path} has no config.json (expected a save_pretrained folder)")
        config = AutoConfig.from_pretrained(self.path, local_files_only=True)
        if config.model_type == "whisper":
            raise ValueError(f"{self.path} is a Whisper model; the gate supports CTC models (wav2vec2, HuBERT, WavLM)")
        self._torch = torch
        self.processor = AutoProcessor.from_pretrained(self.path, local_files_only=True)
        self.model = AutoModelForCTC.from_pretrained(self.path, local_files_only=True).to(device).eval()
        self.device = device
        self.batch_size = batch_size
        self.sample_rate = int(self.processor.feature_extractor.sampling_rate)
        self.architecture = config.model_type

    def model_info(self) -> dict:
        return {
            "path": str(self.path),
            "architecture": self.architecture,
            "files_sha256": model_files_sha256(self.path),
            "sample_rate": self.sample_rate,
        }

    def transcribe(self, audios: list[np.ndarray], sample_rate: int) -> list[str]:
        texts: list[str] = []
        for start in range(0, len(audios), self.batch_size):
            batch = [
                soxr.resample(np.asarray(a, dtype=np.float32), sample_rate, self.sample_rate) if sample_rate != self.sample_rate else a
                for a in audios[start : start + self.batch_size]
            ]
            inputs = self.processor(batch, sampling_rate=self.sample_rate, return_tensors="pt", padding=True)
            inputs = {k: v.to(self.device) for k, v in inputs.items()}
            with self._torch.inference_mode():
                logits = self.model(**inputs).logits
            ids = logits.argmax(dim=-1).cpu()
            texts.extend(self.processor.batch_decode(ids))
        return texts
