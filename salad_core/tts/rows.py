"""Text rows in, speech rows (or quarantine rows) out: the unit of work of the synthesis stage.

Usage:
    synth = RowSynthesizer(TTSConfig(), retries=1)
    out = synth.run([{"id": "a", "text": "The cat sat."}, {"id": "b", "text": "..."}])
    out[0]["ok"]        # True: a speech record (SPEECH_COLUMNS); False: a quarantine record

One instance lives in each Ray actor (or in one process for the direct path and benchmarks).
It never raises for a row: a stage over millions of web texts must not die for one of them, so
every failure becomes a quarantine record with a reason a human can read. Columns of the input
row other than id/text (e.g. `cluster`) are copied to both kinds of record.
"""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa

from salad_core.records.quarantine import quarantine_row
from salad_core.tts.config import TTSConfig
from salad_core.tts.factory import make_backend
from salad_core.tts.flac import encode_flac
from salad_core.tts.interface import SAMPLE_RATE
from salad_core.tts.text_checks import check_text
from salad_core.tts.voices import pick_voice

WORD_TIMING_TYPE = pa.list_(pa.struct([("word", pa.string()), ("start", pa.float64()), ("end", pa.float64())]))
SPEECH_FIELDS = [
    pa.field("id", pa.string()),
    pa.field("text", pa.string()),
    pa.field("voice", pa.string()),
    pa.field("sample_rate", pa.int32()),
    pa.field("audio", pa.binary()),  # FLAC, 16-bit mono
    pa.field("duration_s", pa.float64()),
    pa.field("word_timings", WORD_TIMING_TYPE),  # null when the backend cannot time words
]
CRASHED_WORKER_REASON = "synthesis worker process died on this row"
HUNG_WORKER_REASON = "synthesis hung on this row (timed out; its worker was replaced)"


def speech_schema(extra: list[pa.Field] = ()) -> pa.Schema:
    """Arrow schema of speech records: the fixed SPEECH_FIELDS followed by the stage's `extra` passthrough fields, in that order."""
    return pa.schema(SPEECH_FIELDS + list(extra))


def quarantine_record(row: dict[str, Any], reason: str, error: str | None, text_chars: int) -> dict[str, Any]:
    """The one quarantine record (salad_core.records.quarantine) of a row that was not spoken, with
    the input's kept columns; `stage` is filled by the stage that commits it (it knows its name)."""
    extras = {k: v for k, v in row.items() if k not in ("id", "text")}
    return {"ok": False, **quarantine_row(row.get("id"), "", reason, error, row.get("text"), text_chars), **extras}


class RowSynthesizer:
    """One TTS backend plus the per-row policy: check, pick a voice, retry, encode, or quarantine."""

    def __init__(self, config: TTSConfig, retries: int = 1, quarantine_text_chars: int = 200) -> None:
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.config = config
        self.retries = retries
        self.quarantine_text_chars = quarantine_text_chars
        self.backend = make_backend(config)
        self._voices = self.backend.voices()

    def model_info(self) -> dict:
        """The backend's `model_info`, for the stage's manifest."""
        return self.backend.model_info()

    def run(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One output record per input row, in input order; never raises for a row (failures become quarantine records)."""
        return [self.synthesize_row(row) for row in rows]

    def synthesize_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """A speech record, or a quarantine record when the text fails checks, the backend rejects it (ValueError, no retry) or
        synthesis fails `retries`+1 times."""
        reason = check_text(row.get("text"), max_chars=self.config.max_chars)
        if reason is not None:
            return quarantine_record(row, reason, None, self.quarantine_text_chars)
        voice = pick_voice(str(row["id"]), seed=self.config.seed, voices=self._voices)
        error: Exception | None = None
        for attempt in range(1 + self.retries):
            try:
                return self._speech_record(row, voice)
            except ValueError as exc:  # the backend refuses this text: the same answer every time
                return quarantine_record(row, "the TTS backend rejected the text", _describe(exc), self.quarantine_text_chars)
            except Exception as exc:  # noqa: BLE001 - anything else may be transient (helper died, OOM)
                error = exc
                time.sleep(min(0.1 * 2**attempt, 2.0))
        reason = f"synthesis failed after {1 + self.retries} attempt(s)"
        return quarantine_record(row, reason, _describe(error), self.quarantine_text_chars)

    def _speech_record(self, row: dict[str, Any], voice: str) -> dict[str, Any]:
        result = self.backend.synthesize(row["text"], voice)
        if result.sample_rate != SAMPLE_RATE:
            raise RuntimeError(f"backend returned {result.sample_rate} Hz, the contract is {SAMPLE_RATE} Hz")
        timings = None
        if result.word_timings is not None:
            timings = [{"word": w, "start": float(s), "end": float(e)} for w, s, e in result.word_timings]
        extras = {k: v for k, v in row.items() if k not in ("id", "text")}
        return {
            "ok": True,
            "id": str(row["id"]),
            "text": row["text"],
            "voice": voice,
            "sample_rate": result.sample_rate,
            "audio": encode_flac(result.audio, result.sample_rate),
            "duration_s": result.duration_s,
            "word_timings": timings,
            **extras,
        }


def _describe(exc: BaseException | None) -> str | None:
    if exc is None:
        return None
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 2000 else text[:2000] + "…"
