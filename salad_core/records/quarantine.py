"""The one quarantine record: every stage keeps bad rows aside in this shape (plus its own columns).

    quarantine_schema([pa.field("cluster", pa.int32())])      # id, stage, reason, error, excerpt, cluster
    quarantine_row("doc-1", "corpus", "duplicate id: first seen in a.parquet row 3", excerpt=text)

Why one shape: a data engineer asks "what did this run throw away, and why?" across every stage
at once (`salad quarantine list`), with one query over the first five columns. A stage adds what
it needs after them (the corpus keeps the whole FineWeb row, so a fixed row can be re-ingested).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa

QUARANTINE_CORE = [
    pa.field("id", pa.string()),
    pa.field("stage", pa.string()),  # the artifact the row was kept out of
    pa.field("reason", pa.string()),  # "<kind>: <details>"; stats count the kinds
    pa.field("error", pa.string()),  # the exception's first line, when one was raised
    pa.field("excerpt", pa.string()),  # the start of the text or the source, for reading, not replay
]
CORE_NAMES = [f.name for f in QUARANTINE_CORE]
EXCERPT_CHARS = 200


def quarantine_schema(stage_fields: Iterable[pa.Field] = ()) -> pa.Schema:
    """The core columns, then the stage's own (which must not reuse a core name)."""
    extra = list(stage_fields)
    clash = [f.name for f in extra if f.name in CORE_NAMES]
    if clash:
        raise ValueError(f"quarantine columns {clash} would shadow the core record {CORE_NAMES}")
    return pa.schema(QUARANTINE_CORE + extra)


def excerpt(value: Any, chars: int = EXCERPT_CHARS) -> str | None:
    """The start of a text (or of any value's repr), saying how long the whole was."""
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= chars else text[:chars] + f"… [{len(text)} characters]"


def quarantine_row(
    id: Any, stage: str, reason: str, error: str | None = None, excerpt_of: Any = None, chars: int = EXCERPT_CHARS, **extra: Any
) -> dict[str, Any]:
    """One quarantined row: the core record (the excerpt cut from `excerpt_of`) plus the stage's columns."""
    return {"id": None if id is None else str(id), "stage": stage, "reason": reason, "error": error, "excerpt": excerpt(excerpt_of, chars), **extra}
