"""ASR round trip for the quality gate: a local CTC model (wav2vec2, HuBERT, WavLM, ...) transcribes speech.

Usage:
    asr = LocalCTCRecognizer("models/wav2vec2-base-960h")   # a folder from save_pretrained / a HF snapshot
    texts = asr.transcribe([audio_24k, ...], sample_rate=24000)
    asr.model_info()          # for the manifest: path, architecture, SHA-256 of config and weights

Only local folders are read (the pipeline runs offline); nothing is downloaded. CTC models are
supported because they transcribe long clips in one pass with greedy decoding, which is
deterministic; Whisper (30 s windows, generation) is not supported here. torch and transformers
are imported only when a recognizer is built, so the gate without ASR stays light. The loading
rules are shared with the forced aligner (``salad_core.ctc_model``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soxr

from salad_core.ctc_model import LocalCTCModel, model_files_sha256

__all__ = ["LocalCTCRecognizer", "model_files_sha256"]  # the gate hashes the model folder for its fingerprint


class LocalCTCRecognizer:
    """Greedy CTC transcription with a transformers model loaded from a local folder."""

    def __init__(self, path: str | Path, device: str = "cpu", batch_size: int = 4) -> None:
        import torch

        loaded = LocalCTCModel.load(path, device, role="ASR model", user="the gate")
        self._torch = torch
        self._loaded = loaded
        self.path = loaded.path
        self.processor = loaded.processor
        self.model = loaded.model
        self.device = device
        self.batch_size = batch_size
        self.sample_rate = loaded.sample_rate
        self.architecture = loaded.architecture

    def model_info(self) -> dict:
        """Identity of the loaded ASR model for the gate's manifest and fingerprint (paths under `local_paths` only)."""
        return self._loaded.model_info()

    def transcribe(self, audios: list[np.ndarray], sample_rate: int) -> list[str]:
        """Greedy CTC transcripts, one per input in order; audio is mono float32 at `sample_rate` Hz and is resampled to the model's rate when it differs."""
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
