"""Per-utterance checks that synthesised speech is usable: the quality gate's verdict on one row.

Usage:
    thresholds = QualityThresholds()                      # defaults fit espeak-ng and Kokoro
    verdict = judge_audio(audio, 24000, text, thresholds)
    verdict.passed, verdict.reasons, verdict.metrics      # metrics: seconds_per_word, silence_ratio, ...
    cer = character_error_rate(reference_text, asr_transcript)

Why these checks: a broken TTS run rarely crashes; it produces audio that is silent, clipped,
NaN, far too long (a random-weights Kokoro speaks 12 s of text in 100 s) or far too short
(a truncated clip). Each shows up in one cheap number. Whether the words are right needs an ASR
round trip (`character_error_rate`), which the gate runs only when a local ASR model is given.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

_WORD = re.compile(r"\S+")


class QualityThresholds(BaseModel):
    """Bounds a row must meet to pass; each failed bound is one reason in the quarantine."""

    model_config = ConfigDict(extra="forbid")

    min_seconds_per_word: float = Field(default=0.15, ge=0.0, description="Faster than this is truncated or garbled audio (espeak at 175 wpm: ~0.34 s/word).")
    max_seconds_per_word: float = Field(default=1.0, gt=0.0, description="Slower than this is runaway audio (e.g. a random-weights duration head).")
    silence_db: float = Field(default=-40.0, le=0.0, description="A 20 ms frame quieter than this (dBFS RMS) counts as silent.")
    max_silence_ratio: float = Field(default=0.5, ge=0.0, le=1.0, description="Largest share of silent frames (espeak speech: ~0.15).")
    clip_level: float = Field(default=0.999, gt=0.0, le=1.0, description="|sample| at or above this counts as clipped.")
    max_clipping_ratio: float = Field(default=0.001, ge=0.0, le=1.0, description="Largest share of clipped samples.")
    max_cer: float = Field(default=0.3, ge=0.0, description="Largest ASR character error rate (only when an ASR model runs).")

    @model_validator(mode="after")
    def _ordered(self) -> "QualityThresholds":
        if self.min_seconds_per_word >= self.max_seconds_per_word:
            raise ValueError("min_seconds_per_word must be below max_seconds_per_word")
        return self


@dataclass
class Verdict:
    passed: bool
    reasons: list[str]
    metrics: dict[str, float | bool | None] = field(default_factory=dict)


def count_words(text: str) -> int:
    """Whitespace tokens that contain a letter or digit (a lone dash is not a spoken word)."""
    return sum(1 for token in _WORD.findall(text) if any(ch.isalnum() for ch in token))


def frame_levels_db(audio: np.ndarray, sample_rate: int, frame_s: float = 0.02) -> np.ndarray:
    """RMS level of consecutive frames in dBFS (a trailing partial frame is ignored)."""
    size = max(1, int(round(frame_s * sample_rate)))
    n = len(audio) // size
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    frames = audio[: n * size].astype(np.float64).reshape(n, size)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


def measure_audio(audio: np.ndarray, sample_rate: int, text: str, thresholds: QualityThresholds) -> dict[str, float | bool | None]:
    """The numbers the verdict is based on; NaN/inf samples are counted, then treated as zero."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    finite = np.isfinite(audio)
    non_finite = int(len(audio) - finite.sum())
    clean = np.where(finite, audio, 0.0).astype(np.float32)
    duration = len(clean) / sample_rate if sample_rate > 0 else 0.0
    words = count_words(text)
    levels = frame_levels_db(clean, sample_rate)
    return {
        "duration_s": duration,
        "words": words,
        "seconds_per_word": duration / words if words else None,
        "silence_ratio": float(np.mean(levels < thresholds.silence_db)) if len(levels) else 1.0,
        "clipping_ratio": float(np.mean(np.abs(clean) >= thresholds.clip_level)) if len(clean) else 0.0,
        "non_finite_samples": non_finite,
        "peak": float(np.max(np.abs(clean))) if len(clean) else 0.0,
    }


def judge_audio(audio: np.ndarray, sample_rate: int, text: str, thresholds: QualityThresholds, cer: float | None = None) -> Verdict:
    """Every failed check as a readable reason; `cer` is judged only when given (ASR ran)."""
    m = measure_audio(audio, sample_rate, text, thresholds)
    reasons: list[str] = []
    if m["non_finite_samples"]:
        reasons.append(f"non-finite samples (NaN or inf): {m['non_finite_samples']} of {len(np.asarray(audio).reshape(-1))}")
    if m["duration_s"] == 0:
        reasons.append("empty audio (no samples)")
    spw = m["seconds_per_word"]
    if spw is None:
        reasons.append("text has no words to time the audio against")
    elif spw < thresholds.min_seconds_per_word:
        reasons.append(f"too short for the text: {spw:.3f} s per word (minimum {thresholds.min_seconds_per_word})")
    elif spw > thresholds.max_seconds_per_word:
        reasons.append(f"too long for the text: {spw:.3f} s per word (maximum {thresholds.max_seconds_per_word})")
    if m["duration_s"] and m["silence_ratio"] > thresholds.max_silence_ratio:
        reasons.append(f"mostly silence: {m['silence_ratio']:.0%} of frames below {thresholds.silence_db:g} dBFS (maximum {thresholds.max_silence_ratio:.0%})")
    if m["clipping_ratio"] > thresholds.max_clipping_ratio:
        reasons.append(f"clipped: {m['clipping_ratio']:.2%} of samples at |x| >= {thresholds.clip_level:g} (maximum {thresholds.max_clipping_ratio:.2%})")
    m["cer"] = cer
    if cer is not None and cer > thresholds.max_cer:
        reasons.append(f"high character error rate: {cer:.2f} (maximum {thresholds.max_cer:.2f})")
    return Verdict(passed=not reasons, reasons=reasons, metrics=m)


def normalize_for_cer(text: str) -> str:
    """Lowercase letters and digits separated by single spaces: ASR casing and punctuation are not errors."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(text.split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one NumPy row per character of `a` (long texts stay fast)."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    source = np.frombuffer(a.encode("utf-32-le"), dtype=np.uint32)
    target = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, ch in enumerate(source, 1):
        substitute = row[:-1] + (target != ch)
        delete = row[1:] + 1
        new = np.empty_like(row)
        new[0] = i
        new[1:] = np.minimum(substitute, delete)
        # insertions chain along the row: new[j] = min_k(new[k] + j - k)
        row = np.minimum.accumulate(new - steps) + steps
    return int(row[-1])


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Edits per reference character after normalisation; 1.0 for an empty hypothesis."""
    ref, hyp = normalize_for_cer(reference), normalize_for_cer(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)
