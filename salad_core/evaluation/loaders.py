"""A benchmark config -> its items and its rejected rows (the quarantine), in file order.

Usage:
    from salad_core.evaluation.loaders import load_benchmark
    loaded = load_benchmark(BenchmarkConfig(name="piqa", paths=["valid.jsonl"], labels_path="valid-labels.lst"))
    loaded.items, loaded.rejected, loaded.files   # files: url, size, etag of every input file

Every row ends up in exactly one of `items` / `rejected`: a row the layout cannot parse, a row
that fails `check_item` (missing options, answer out of range, empty text) and a duplicate id are
all rejected with their reason and file:line, never skipped. A file that cannot be read at all,
or a PIQA labels file whose length differs from its rows, stops the load with an error naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from salad_core.evaluation.bundled_mc import bundled_items
from salad_core.evaluation.config import BenchmarkConfig
from salad_core.evaluation.formats import PARSERS, detect_format
from salad_core.evaluation.items import McItem, Rejected, RowError, check_item
from salad_core.evaluation.sources import (
    BadRecord,
    BenchmarkFileError,
    file_identity,
    read_lines,
    read_records,
    resolve_files,
)

# VoiceBench mmsu's splits are the MMLU-Pro domains; its files are named after them.
MMSU_DOMAINS = (
    "biology",
    "business",
    "chemistry",
    "economics",
    "engineering",
    "health",
    "history",
    "law",
    "other",
    "philosophy",
    "physics",
    "psychology",
)


@dataclass
class LoadedBenchmark:
    items: list[McItem] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)


def load_benchmark(config: BenchmarkConfig) -> LoadedBenchmark:
    """Items and rejections of one benchmark from its files (or the bundled set), in file order; bad rows, failed checks and
    duplicate ids are rejected, not raised."""
    if config.name == "bundled_mc":
        return LoadedBenchmark(items=bundled_items(config.n_items, config.n_options, config.seed))
    urls = resolve_files(config.paths)
    out = LoadedBenchmark(files=[file_identity(u) for u in urls])
    labels = _piqa_labels(config, urls) if config.labels_path else None
    if labels is not None:
        out.files.append(file_identity(config.labels_path))
    seen: set[str] = set()
    formats: dict[str, str] = {}
    for index, (location, record) in enumerate(read_records(urls)):
        if config.limit is not None and len(out.items) >= config.limit:
            break
        url = location.rsplit(":", 1)[0]
        if isinstance(record, BadRecord):
            out.rejected.append(Rejected(config.name, location, None, record.reason, {"raw": record.raw}))
            continue
        if labels is not None:
            record = {**record, "label": labels[index]}
        layout = config.format if config.format != "auto" else formats.setdefault(url, detect_format(record) or "")
        if not layout:
            raise BenchmarkFileError(f"{url}: cannot tell the benchmark layout from its columns {sorted(record)}; set format")
        try:
            item = PARSERS[layout](record, config.name, index)
        except RowError as exc:
            out.rejected.append(Rejected(config.name, location, _row_id(record), str(exc), record))
            continue
        item = _with_topic(item, config, url)
        reason = check_item(item) or ("duplicate id" if item.id in seen else None)
        if reason:
            out.rejected.append(Rejected(config.name, location, item.id, reason, record))
            continue
        seen.add(item.id)
        out.items.append(item)
    return out


def _piqa_labels(config: BenchmarkConfig, urls: list[str]) -> list[str]:
    """The original PIQA release keeps labels in a separate file, one per line, aligned with the rows."""
    labels = [line.strip() for line in read_lines(resolve_files([config.labels_path])[0])]
    while labels and not labels[-1]:
        labels.pop()
    rows = sum(1 for _ in read_records(urls))
    if len(labels) != rows:
        raise BenchmarkFileError(f"{config.labels_path}: {len(labels)} labels for {rows} rows in {config.paths}")
    return labels


def _row_id(record: dict) -> str | None:
    for key in ("id", "story_id", "InputStoryid", "ind"):
        if record.get(key) is not None:
            return str(record[key])
    return None


def _with_topic(item: McItem, config: BenchmarkConfig, url: str) -> McItem:
    topic = config.topic or item.topic
    if topic is None and config.name == "mmsu":
        name = url.rsplit("/", 1)[-1].lower()
        topic = next((d for d in MMSU_DOMAINS if re.match(rf"{d}\b|{d}[-_.]", name)), None)
    if topic == item.topic:
        return item
    return McItem(**{**item.__dict__, "topic": topic})
