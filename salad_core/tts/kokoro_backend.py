"""Kokoro-82M speech (the paper's TTS), offline, with word timings.

Usage:
    backend = KokoroBackend(voices=["af_heart"], weights_dir="models/Kokoro-82M")   # real weights
    backend = KokoroBackend(voices=["af_heart"])          # real weights from a pre-filled HF cache
    backend = KokoroBackend(random_weights=True, seed=0)  # test mode: same architecture, noise
    out = backend.synthesize("The cat sat on the mat.", voice="af_heart")

Real weights are required unless `random_weights=True` is passed explicitly; they are never
downloaded (see kokoro_weights.py). Phonemes come from misaki's English G2P on an offline spaCy
pipeline (see kokoro_g2p.py). Kokoro's vocoder draws random phases and noise, so every call is
run under a private RNG seeded with `seed`: the same text and voice give the same samples.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np
import torch
from kokoro import KModel, KPipeline

from salad_core.tts.interface import SAMPLE_RATE, Synthesis, TTSBackend, as_mono_float32
from salad_core.tts.kokoro_config import KOKORO_REPO_ID
from salad_core.tts.kokoro_g2p import OfflineEnglishG2P, describe_g2p, make_english_g2p
from salad_core.tts.kokoro_weights import (
    TEST_FRAMES_PER_PHONEME,
    build_random_kmodel,
    find_kokoro_files,
    load_kmodel,
    load_voice_pack,
    random_voice_pack,
    sha256_file,
)
from salad_core.tts.voices import PAPER_VOICES
from salad_core.tts.word_timings import words_from_anchors

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class OfflineKPipeline(KPipeline):
    """kokoro's American-English KPipeline with our G2P, skipping a constructor that downloads.

    KPipeline.__init__ builds misaki's G2P (spaCy download) and may fetch a model; its
    chunking, inference and timestamp code is what we want, so only the fields it reads are set
    (kokoro 0.9.x: repo_id, lang_code, model, voices, g2p).
    """

    def __init__(self, model: KModel, g2p: OfflineEnglishG2P) -> None:
        self.repo_id = KOKORO_REPO_ID
        self.lang_code = "b" if g2p.british else "a"
        self.model = model
        self.voices: dict[str, torch.Tensor] = {}
        self.g2p = g2p


class KokoroBackend(TTSBackend):
    name = "kokoro"

    def __init__(
        self,
        voices: list[str] | None = None,
        weights_dir: str | Path | None = None,
        repo_id: str = KOKORO_REPO_ID,
        revision: str | None = None,
        hf_cache_dir: str | Path | None = None,
        random_weights: bool = False,
        seed: int = 0,
        device: str = "cpu",
        dtype: str = "float32",
        speed: float = 1.0,
        test_frames_per_phoneme: int = TEST_FRAMES_PER_PHONEME,
    ) -> None:
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
        self._voices = list(voices) if voices else list(PAPER_VOICES)
        self.random_weights = random_weights
        self.seed = seed
        self.device = torch.device(device)
        self.dtype = dtype
        self.speed = speed
        self._lock = threading.Lock()  # the pipeline caches voices and the RNG fork is global

        if random_weights:
            model = build_random_kmodel(seed, test_frames_per_phoneme)
            packs = {v: random_voice_pack(seed, v) for v in self._voices}
            self._identity = {
                "model_id": f"{repo_id} (random weights)",
                "revision": None,
                "weights_sha256": None,
                "voice_sha256": None,
                "source": "random",
                "test_frames_per_phoneme": test_frames_per_phoneme,
            }
        else:
            files = find_kokoro_files(self._voices, weights_dir, repo_id, revision, hf_cache_dir)
            model = load_kmodel(files)
            packs = {v: load_voice_pack(path) for v, path in files.voices.items()}
            self._identity = {
                "model_id": repo_id,
                "revision": files.revision,
                "weights_sha256": sha256_file(files.weights),
                "voice_sha256": {v: sha256_file(path) for v, path in files.voices.items()},
                "config_sha256": sha256_file(files.config) if files.config else "embedded default",
                "source": files.source.split(":", 1)[0],  # "local" folder or "hf" cache
                "local_paths": {"weights": str(files.weights), "config": str(files.config) if files.config else None},
            }
        self.model = model.to(self.device).eval()
        self.g2p = make_english_g2p()
        self.pipeline = OfflineKPipeline(self.model, self.g2p)
        for voice, pack in packs.items():  # by name: KPipeline only takes CPU float32 tensors directly
            self.pipeline.voices[voice] = pack

    def voices(self) -> list[str]:
        """The voices whose packs this backend loaded (the only ones `synthesize` accepts)."""
        return list(self._voices)

    def model_info(self) -> dict:
        """Manifest identity: model id, weight and voice hashes (None with random weights), seed, device, dtype, speed and G2P;
        machine paths only under `local_paths`."""
        return {
            "backend": self.name,
            **self._identity,
            "random_weights": self.random_weights,
            "seed": self.seed,
            "voices": self.voices(),
            "device": str(self.device),
            "dtype": self.dtype,
            "speed": self.speed,
            "sample_rate": SAMPLE_RATE,
            **describe_g2p(self.g2p),
        }

    def synthesize(self, text: str, voice: str) -> Synthesis:
        """24 kHz mono float32 speech, deterministic for a given seed (seeds a forked RNG per call); ValueError for a voice not
        loaded or text that yields no phonemes."""
        if voice not in self.pipeline.voices:
            raise ValueError(f"voice {voice!r} was not loaded; this backend has {self.voices()}")
        pieces: list[np.ndarray] = []
        anchors: list[tuple[int, float, float | None]] = []
        offset_s, cursor = 0.0, 0
        devices = [self.device] if self.device.type == "cuda" else []
        # Reduced precision through autocast, weights stay float32: kokoro's LSTMs have no
        # bfloat16 kernel on CPU (oneDNN refuses), autocast runs them in float32 by itself.
        if self.dtype == "float32":
            precision = contextlib.nullcontext()
        else:
            precision = torch.autocast(self.device.type, dtype=DTYPES[self.dtype])
        with self._lock, torch.random.fork_rng(devices=devices), precision:
            torch.manual_seed(self.seed)
            for result in self.pipeline(text, voice=voice, speed=self.speed):
                if result.audio is None:
                    continue
                audio = result.audio.float().cpu().numpy()
                for token in result.tokens or []:
                    position = text.find(token.text, cursor) if token.text else -1
                    if position < 0:
                        continue  # misaki rewrote this token (e.g. markdown links); skip its time
                    cursor = position + len(token.text)
                    if token.start_ts is not None:
                        end = None if token.end_ts is None else offset_s + token.end_ts
                        anchors.append((position, offset_s + token.start_ts, end))
                pieces.append(audio)
                offset_s += len(audio) / SAMPLE_RATE
        if not pieces:
            raise ValueError(f"Kokoro produced no audio (no phonemes) for text {text[:60]!r}")
        audio = as_mono_float32(np.concatenate(pieces))
        return Synthesis(
            audio=audio,
            backend=self.name,
            model_id=self._identity["model_id"],
            random_weights=self.random_weights,
            voice=voice,
            word_timings=words_from_anchors(text, anchors, len(audio) / SAMPLE_RATE),
        )
