"""Reader items -> `utterances` rows (FLAC at 24 kHz) or quarantine records with a reason.

A row is quarantined, not fatal, when its audio does not decode (the reason names the file or tar
member), its transcript is empty (unless ``allow_empty_text``), or the clip is implausible for its
transcript (``implausible clip: ...``): shorter than ``min_seconds``, or failing the TTS quality
gate's seconds-per-word, silence or clipping bounds (``clip_checks``, salad_core.tts.quality).
The checks run on the whole decoded clip, before forced alignment (a 3-minute silent file is
refused before the aligner or Mimi spends minutes on it) and before cropping. Cropping to ``max_seconds``
drops the word timings that end past the crop.

Word timings come from the source when it has them (``timings_source`` "source"; never
re-aligned); otherwise, with ``aligner_model_path`` set and a non-empty transcript, from the
forced aligner ("aligner"), built once per builder on first use. The aligner sees the *whole*
decoded clip, not the crop: the transcript belongs to the whole clip, so aligning it to a crop
would squeeze every word into it; the crop then drops late words exactly as for source timings.
A transcript that cannot fit its audio (``AlignmentError``) quarantines the row with the reason
"forced alignment failed: ...".
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from salad_core.alignment import AlignmentError, CTCWordAligner
from salad_core.records.quarantine import quarantine_row, quarantine_schema
from salad_core.audio import MIMI_SAMPLE_RATE, AudioDecodeError, encode_flac
from salad_core.speech_sources.config import SpeechSourceConfig
from salad_core.speech_sources.items import SpeechItem
from salad_core.tts.quality import judge_audio

IMPLAUSIBLE_CLIP = "implausible clip"

WORD_TIMING = pa.struct([("word", pa.string()), ("start", pa.float64()), ("end", pa.float64())])
UTTERANCE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("speaker", pa.string()),
        ("text", pa.string()),
        ("audio", pa.binary()),
        ("sample_rate", pa.int32()),
        ("duration_s", pa.float64()),
        ("word_timings", pa.list_(WORD_TIMING)),
        ("timings_source", pa.string()),
    ]
)
QUARANTINE_SCHEMA = quarantine_schema([pa.field("source", pa.string())])  # the one quarantine record + the speech source
UTTERANCES_STAGE = "utterances"


_NO_WORDS = "text has no words"  # judge_audio's reason for an empty transcript, allowed by allow_empty_text


class UtteranceBuilder:
    """Turns items into rows; counts what it kept and why it refused the rest."""

    def __init__(self, config: SpeechSourceConfig):
        self.config = config
        self.max_samples = int(config.max_seconds * MIMI_SAMPLE_RATE) if config.max_seconds else None
        self._aligner: CTCWordAligner | None = None

    @property
    def aligner(self) -> CTCWordAligner | None:
        """The configured forced aligner, loaded on first use (None when none is configured)."""
        if self._aligner is None and self.config.aligner_model_path:
            self._aligner = CTCWordAligner(self.config.aligner_model_path, self.config.aligner_device)
        return self._aligner

    def build(self, item: SpeechItem) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(row, None) or (None, quarantine record)."""
        if item.problem:
            return None, self._refuse(item, item.problem)
        if not item.text and not self.config.allow_empty_text:
            return None, self._refuse(item, f"{item.origin}: empty transcript")
        try:
            audio = item.load()
        except AudioDecodeError as err:
            return None, self._refuse(item, str(err))
        if implausible := self._implausible(item, audio):
            return None, self._refuse(item, f"{IMPLAUSIBLE_CLIP}: {item.origin}: {implausible}")
        timings, timings_source = item.word_timings, item.timings_source
        aligner = self.aligner if timings is None and item.text else None
        if aligner is not None:
            try:
                timings, timings_source = aligner.align(audio, item.text), "aligner"
            except AlignmentError as err:
                return None, self._refuse(item, f"forced alignment failed: {item.origin}: {err}")
        if self.max_samples is not None:
            audio = audio[: self.max_samples]
        duration = len(audio) / MIMI_SAMPLE_RATE
        if timings is not None:
            timings = [w for w in timings if w["end"] <= duration + 1e-6]
        row = {
            "id": item.id,
            "source": self.config.source,
            "speaker": item.speaker,
            "text": item.text or "",
            "audio": encode_flac(audio, MIMI_SAMPLE_RATE),
            "sample_rate": MIMI_SAMPLE_RATE,
            "duration_s": round(duration, 6),
            "word_timings": timings,
            "timings_source": timings_source if timings is not None else None,
        }
        return row, None

    def _implausible(self, item: SpeechItem, audio) -> str | None:
        """Why the clip cannot be speech of its transcript, or None."""
        duration = len(audio) / MIMI_SAMPLE_RATE
        reasons = []
        if duration < self.config.min_seconds:
            reasons.append(f"{duration:.3f} s long (minimum {self.config.min_seconds} s)")
        if self.config.clip_checks is not None:
            verdict = judge_audio(audio, MIMI_SAMPLE_RATE, item.text or "", self.config.clip_checks)
            reasons += [r for r in verdict.reasons if item.text or verdict.metrics["words"] or not r.startswith(_NO_WORDS)]
        return "; ".join(reasons) or None

    def _refuse(self, item: SpeechItem, reason: str) -> dict[str, Any]:
        return quarantine_row(item.id, UTTERANCES_STAGE, reason, excerpt_of=item.origin, source=self.config.source)
