"""One record for every multiple-choice benchmark, and the rows that could not become one.

Usage:
    from salad_core.evaluation.items import McItem, Rejected, items_to_table, table_to_items
    item = McItem(id="Mercury_1", benchmark="arc_challenge", context="", question="Which ...?",
                  options=("a", "b", "c", "d"), answer=2)
    table = items_to_table([item])            # ITEM_SCHEMA, for the items artifact
    same = table_to_items(table)

`context` is what precedes the question (HellaSwag's activity and partial sentence, a story's
first four sentences, a paragraph), `question` the question itself; either may be empty but not
both. Both are what gets spoken in the speech view; `options` stay text continuations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from salad_core.records.quarantine import quarantine_row, quarantine_schema

ITEM_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("benchmark", pa.string()),
        ("context", pa.string()),
        ("question", pa.string()),
        ("options", pa.list_(pa.string())),
        ("answer", pa.int32()),
        ("audio", pa.binary()),  # FLAC at 24 kHz when the benchmark ships audio, else null
        ("topic", pa.string()),
    ]
)
# the one quarantine record, then the benchmark, the source file and the row as JSON (up to 2000 characters)
QUARANTINE_SCHEMA = quarantine_schema([pa.field("benchmark", pa.string()), pa.field("source", pa.string()), pa.field("row", pa.string())])
_ROW_PREVIEW_CHARS = 2000


class RowError(ValueError):
    """A source row that cannot become an item; the message is its quarantine reason."""


@dataclass(frozen=True)
class McItem:
    id: str
    benchmark: str
    context: str
    question: str
    options: tuple[str, ...]
    answer: int
    audio: bytes | None = None
    topic: str | None = None


@dataclass(frozen=True)
class Rejected:
    """A source row that is not a usable item; `source` is file:line (or file:row)."""

    benchmark: str
    source: str
    id: str | None
    reason: str
    row: dict | None = None

    def record(self) -> dict:
        """This rejection as one QUARANTINE_SCHEMA row; the source row is kept only as a truncated JSON preview (non-JSON values shown by type name)."""
        preview = None
        if self.row is not None:
            preview = json.dumps(self.row, default=lambda v: f"<{type(v).__name__}>", ensure_ascii=False)[:_ROW_PREVIEW_CHARS]
        return quarantine_row(
            self.id, f"eval_items_{self.benchmark}", self.reason, excerpt_of=preview, benchmark=self.benchmark, source=self.source, row=preview
        )


def check_item(item: McItem) -> str | None:
    """Why `item` cannot be scored, or None. Every loader's output goes through this."""
    if not item.id:
        return "missing id"
    if not item.options:
        return "missing options"
    if len(item.options) < 2:
        return f"only {len(item.options)} option(s); multiple choice needs at least 2"
    if any(not isinstance(o, str) or not o.strip() for o in item.options):
        return "empty text: an option is empty"
    if not (item.context or "").strip() and not (item.question or "").strip():
        return "empty text: no context and no question"
    if not 0 <= item.answer < len(item.options):
        return f"answer out of range: {item.answer} for {len(item.options)} options"
    return None


def items_to_table(items: Iterable[McItem]) -> pa.Table:
    """Items as an ITEM_SCHEMA table, rows in the iteration order; inverse of `table_to_items`."""
    items = list(items)
    return pa.table(
        {
            "id": [i.id for i in items],
            "benchmark": [i.benchmark for i in items],
            "context": [i.context for i in items],
            "question": [i.question for i in items],
            "options": [list(i.options) for i in items],
            "answer": [i.answer for i in items],
            "audio": [i.audio for i in items],
            "topic": [i.topic for i in items],
        },
        schema=ITEM_SCHEMA,
    )


def table_to_items(table: pa.Table) -> list[McItem]:
    """Items back from an ITEM_SCHEMA table (extra columns ignored, null context/question read as ""); ValueError when a schema column is missing."""
    missing = [n for n in ITEM_SCHEMA.names if n not in table.column_names]
    if missing:
        raise ValueError(f"not an items table: missing columns {missing}")
    return [
        McItem(
            id=r["id"],
            benchmark=r["benchmark"],
            context=r["context"] or "",
            question=r["question"] or "",
            options=tuple(r["options"]),
            answer=int(r["answer"]),
            audio=r["audio"],
            topic=r["topic"],
        )
        for r in table.select(ITEM_SCHEMA.names).to_pylist()
    ]


def rejected_to_table(rejected: Iterable[Rejected]) -> pa.Table:
    """Rejections as a QUARANTINE_SCHEMA table, one row each, in order."""
    return pa.Table.from_pylist([r.record() for r in rejected], schema=QUARANTINE_SCHEMA)
