"""What must be spoken for each item, as artifacts the synthesis and Mimi tasks already take.

Usage:
    from salad_core.evaluation.spoken import spoken_text_table, shipped_audio_table, frames_by_id
    spoken_text_table(items)    # id, text   -> tasks.tts.synthesize_speech -> tasks.tokenize.tokenize_speech
    shipped_audio_table(items)  # id, audio  -> tasks.tokenize.tokenize_speech (the benchmark's own recordings)
    frames_by_id(codes_tables)  # id -> (F, n_q) int16 tensor, for the speech view

The spoken part is the context and the question (prompts.spoken_text); options stay text, as in the
paper. An item that ships audio (VoiceBench) is never synthesised: its recording, already decoded
and resampled to 24 kHz FLAC by the loader, is used instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyarrow as pa
import torch

from salad_core.mimi.codes import codes_array

from salad_core.evaluation.items import McItem
from salad_core.evaluation.prompts import spoken_text

SPOKEN_TEXT_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string())])
SHIPPED_AUDIO_SCHEMA = pa.schema([("id", pa.string()), ("audio", pa.binary())])


def spoken_text_table(items: Iterable[McItem]) -> pa.Table:
    """(id, text) rows for the TTS stage: only items without shipped audio, with the text that is read aloud."""
    rows = [{"id": i.id, "text": spoken_text(i)} for i in items if i.audio is None]
    return pa.Table.from_pylist(rows, schema=SPOKEN_TEXT_SCHEMA)


def shipped_audio_table(items: Iterable[McItem]) -> pa.Table:
    """(id, audio) rows for items whose benchmark ships its own audio, so they skip synthesis."""
    rows = [{"id": i.id, "audio": i.audio} for i in items if i.audio is not None]
    return pa.Table.from_pylist(rows, schema=SHIPPED_AUDIO_SCHEMA)


def frames_by_id(tables: Sequence[pa.Table]) -> dict[str, torch.Tensor]:
    """Codes rows (id, codes flat frame-major, n_frames, n_codebooks) -> id -> (F, n_q) int16 tensor."""
    out: dict[str, torch.Tensor] = {}
    for table in tables:
        for row in table.select(["id", "codes", "n_frames", "n_codebooks"]).to_pylist():
            if row["id"] in out:
                raise ValueError(f"item {row['id']} has codes in two spoken artifacts")
            out[row["id"]] = torch.from_numpy(codes_array(row, source="spoken items"))
    return out
