"""Word timings for a transcript from a local CTC model (wav2vec2, HuBERT, WavLM) by forced alignment.

Usage:
    aligner = CTCWordAligner("models/wav2vec2-base-960h")          # a save_pretrained folder
    aligner.align(audio_24k, "Printing, in the only sense")
    # [{"word": "Printing,", "start": 0.04, "end": 0.52}, {"word": "in", ...}, ...]   seconds
    aligner.model_info()       # path, architecture, files_sha256, sample_rate

How: the 24 kHz audio is resampled (soxr) to the model's rate, the model's per-frame logits go
through log_softmax, and :func:`forced_align` finds the best CTC path of the transcript's
characters. The transcript is normalised to the model's vocabulary: letters take the vocabulary's
case (wav2vec2-base-960h is upper case), words are joined by the word delimiter (``|``) when the
vocabulary has one, and characters the vocabulary lacks (digits, hyphens, accents for an English
model) are dropped from the target. Every whitespace-separated word of the transcript still gets
one timing, in order, with its original spelling: a word with no alignable character gets a
zero-length span at the end of the word before it (or the start of the word after it, when it
leads). A frame lasts ``samples_per_frame / sample_rate`` seconds, taken from the model config's
conv strides (320 / 16 kHz = 20 ms for the common models), not assumed.

Raises :class:`AlignmentError` when the transcript cannot fit the audio (more characters than
frames) or has no character of the vocabulary at all: such a row is bad data, not a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import soxr

from salad_core.alignment.ctc_viterbi import AlignmentError, TokenSpan, check_fits, forced_align
from salad_core.audio import MIMI_SAMPLE_RATE
from salad_core.ctc_model import LocalCTCModel


class CTCWordAligner:
    """Forced alignment of transcripts to 24 kHz audio with one CTC model, loaded once."""

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        import torch

        self._torch = torch
        self._loaded = LocalCTCModel.load(path, device, role="aligner model", user="the forced aligner")
        if self._loaded.samples_per_frame is None:
            raise ValueError(f"{path}: no conv_stride in the config, so the frame duration is unknown (use wav2vec2, HuBERT, WavLM)")
        self.device = device
        config = self._loaded.model.config
        self._conv = list(zip(config.conv_kernel, config.conv_stride))
        self.blank = int(config.pad_token_id)  # transformers' CTC loss uses the pad token as blank
        self.vocabulary = Vocabulary.from_tokenizer(self._loaded.processor.tokenizer, self.blank)

    @property
    def seconds_per_frame(self) -> float:
        """Seconds of audio per CTC output frame (the model's total conv stride over its sample rate), to turn frame indices into times."""
        return self._loaded.samples_per_frame / self._loaded.sample_rate

    def model_info(self) -> dict[str, Any]:
        """Identity of the aligner model (path, architecture, file hashes, sample rate) for the stage's manifest."""
        return self._loaded.model_info()

    def align(self, audio_24k: np.ndarray, text: str) -> list[dict[str, Any]]:
        """One {"word", "start", "end"} per whitespace-separated word of ``text``, in order (seconds)."""
        words = text.split()
        if not words:
            return []
        target, owner = self.vocabulary.target(words)
        if not target:
            raise AlignmentError("no character of the transcript is in the model's vocabulary")
        audio = np.asarray(audio_24k, dtype=np.float32)
        if self._loaded.sample_rate != MIMI_SAMPLE_RATE:
            audio = soxr.resample(audio, MIMI_SAMPLE_RATE, self._loaded.sample_rate)
        check_fits(target, self._frames(len(audio)))  # before the model: also refuses clips too short to encode
        spans = forced_align(self._log_probs(audio), target, self.blank)
        duration = len(audio_24k) / MIMI_SAMPLE_RATE
        return [
            {"word": word, "start": min(round(start * self.seconds_per_frame, 6), duration), "end": min(round(end * self.seconds_per_frame, 6), duration)}
            for word, (start, end) in zip(words, word_frames(len(words), spans, owner))
        ]

    def _frames(self, samples: int) -> int:
        """Output frames of the conv feature encoder for ``samples`` input samples."""
        for kernel, stride in self._conv:
            samples = (samples - kernel) // stride + 1 if samples >= kernel else 0
        return samples

    def _log_probs(self, audio: np.ndarray) -> np.ndarray:
        torch = self._torch
        inputs = self._loaded.processor(audio, sampling_rate=self._loaded.sample_rate, return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            logits = self._loaded.model(**inputs).logits[0]
        return torch.log_softmax(logits.float(), dim=-1).cpu().numpy()


@dataclass(frozen=True)
class Vocabulary:
    """How a transcript becomes CTC target tokens: single-character tokens, delimiter, letter case."""

    chars: dict[str, int]  # alignable characters -> token id (no blank, delimiter or special tokens)
    delimiter: int | None  # word delimiter token ("|"), put between words; None: words are joined directly
    case: Callable[[str], str]  # maps a word to the vocabulary's letter case

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, blank: int) -> "Vocabulary":
        """The alignable vocabulary of a CTC tokenizer: single-character tokens other than blank, specials and the word delimiter,
        with the vocabulary's letter case."""
        vocab: dict[str, int] = tokenizer.get_vocab()
        delimiter = getattr(tokenizer, "word_delimiter_token", None)
        special = set(tokenizer.all_special_tokens) | {delimiter}
        chars = {c: i for c, i in vocab.items() if len(c) == 1 and c not in special and i != blank}
        return cls(chars=chars, delimiter=vocab.get(delimiter) if delimiter else None, case=_vocabulary_case(chars))

    def target(self, words: list[str]) -> tuple[list[int], list[int | None]]:
        """Token ids of the alignable characters, and the index of the word owning each (None: delimiter)."""
        target: list[int] = []
        owner: list[int | None] = []
        for index, word in enumerate(words):
            ids = [self.chars[c] for c in self.case(word) if c in self.chars]
            if not ids:
                continue
            if target and self.delimiter is not None:
                target.append(self.delimiter)
                owner.append(None)
            target.extend(ids)
            owner.extend([index] * len(ids))
        return target, owner


def _vocabulary_case(chars: dict[str, int]) -> Callable[[str], str]:
    """Upper-case the transcript for an upper-case vocabulary, lower-case for a lower-case one."""
    letters = [c for c in chars if c.isalpha() and c.upper() != c.lower()]
    if letters and all(c.isupper() for c in letters):
        return str.upper
    if letters and all(c.islower() for c in letters):
        return str.lower
    return lambda word: word  # mixed case: keep the transcript's


def word_frames(n_words: int, spans: list[TokenSpan], owner: list[int | None]) -> list[tuple[int, int]]:
    """[start, end) frames per word; a word without tokens gets (e, e) at the previous word's end
    (or at the first aligned word's start when it leads)."""
    bounds: dict[int, tuple[int, int]] = {}
    for span, word in zip(spans, owner):
        if word is not None:
            start, _ = bounds.get(word, (span.start, span.end))
            bounds[word] = (start, span.end)
    first_start = bounds[min(bounds)][0]
    frames: list[tuple[int, int]] = []
    for word in range(n_words):
        if word not in bounds:
            edge = frames[-1][1] if frames else first_start
            bounds[word] = (edge, edge)
        frames.append(bounds[word])
    return frames
