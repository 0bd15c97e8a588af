"""A folder of audio files with a transcript TSV (header row; `file`, `text`, optional `speaker`).

The format, exactly:
* UTF-8, one record per line (``\\n`` or ``\\r\\n``), a header row naming the columns; only
  ``file``, ``text`` and ``speaker`` are read, other columns are allowed and ignored.
* Fields are separated by TAB and never quoted: transcripts may contain quotes, but **no tab**.
  Every line has exactly as many fields as the header (an empty field is nothing between two
  tabs). A line with another count has a tab inside a field, or a field missing; which one is
  unknowable (``x.wav<TAB>part one<TAB>part two<TAB>LJ`` under ``file text speaker`` used to
  become text "part one", speaker "part two"), so the line is quarantined (``malformed transcript
  line``) naming the file, the line number and the field counts. A line that drops its speaker
  field is refused the same way, which is what keeps the rule decidable: were short lines padded,
  ``x.wav<TAB>part one<TAB>part two`` could be either a speakerless line with a tab in its text or
  a correct one.
* A line that is not valid UTF-8 is quarantined (``transcript line is not UTF-8``) naming the
  file, the line and the byte offset; the other lines are read as usual.
* The item id is the file name without its extension, so a clip keeps its id whatever format it
  is stored in. Ids must be unique: when two lines give the same id (``LJ001-0001.wav`` and
  ``LJ001-0001.flac``, or one file listed twice), every one of them is quarantined with all the
  sources named, because nothing says which one is right.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from salad_core.audio import load_audio
from salad_core.speech_sources.items import SpeechItem

MALFORMED_LINE = "malformed transcript line"
NOT_UTF8 = "transcript line is not UTF-8"
DUPLICATE_ID = "duplicate id"


def transcript_path(folder: str, transcripts: str) -> Path:
    """The transcript file's path: `transcripts` as given when absolute, else relative to `folder`."""
    path = Path(transcripts)
    return path if path.is_absolute() else Path(folder) / path


@dataclass
class _Line:
    number: int
    name: str  # the `file` field ("" when the line could not be split)
    fields: list[str] | None  # None: the line is unusable (see problem)
    problem: str | None = None

    @property
    def id(self) -> str:
        return Path(self.name).stem if self.name else ""


def _header(tsv: Path, raw: bytes) -> list[str]:
    try:
        header = raw.decode("utf-8").lstrip("\ufeff").split("\t")
    except UnicodeDecodeError as err:
        raise ValueError(f"{tsv}:1: the header row is not UTF-8 (byte {err.start})") from err
    missing = [c for c in ("file", "text") if c not in header]
    if missing:
        raise ValueError(f"{tsv}: header has no column(s) {missing}; found {header}")
    return header


def _parse(tsv: Path, raw_lines: list[bytes], header: list[str]) -> Iterator[_Line]:
    file_col = header.index("file")
    for number, raw in enumerate(raw_lines[1:], start=2):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            name = raw.split(b"\t")[file_col].decode("utf-8", "replace") if raw.count(b"\t") >= file_col else ""
            yield _Line(number, name, None, f"{NOT_UTF8}: {tsv.name}:{number}: invalid byte 0x{raw[err.start]:02x} at byte {err.start}")
            continue
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            name = fields[file_col] if len(fields) > file_col else ""
            yield _Line(
                number,
                name,
                None,
                f"{MALFORMED_LINE}: {tsv.name}:{number}: {len(fields)} tab-separated fields, the header has {len(header)} "
                "(a tab inside a field, or a field missing)",
            )
            continue
        yield _Line(number, fields[file_col], fields)


def _clashes(tsv: Path, lines: list[_Line]) -> dict[int, str]:
    """Line number -> reason, for every line whose id another line also has."""
    by_id: dict[str, list[_Line]] = defaultdict(list)
    for line in lines:
        if line.name:
            by_id[line.id].append(line)
    reasons: dict[int, str] = {}
    for item_id, group in by_id.items():
        if len(group) > 1:
            sources = ", ".join(f"{line.name} ({tsv.name}:{line.number})" for line in group)
            for line in group:
                reasons[line.number] = f"{DUPLICATE_ID} {item_id!r}: {len(group)} lines give it: {sources}"
    return reasons


def read_folder(folder: str, transcripts: str) -> Iterator[SpeechItem]:
    """One item per transcript line in file order, audio loaded lazily from `folder`; bad lines, missing files and clashing
    names become items with `problem` set. ValueError for an empty transcript file."""
    tsv = transcript_path(folder, transcripts)
    raw_lines = tsv.read_bytes().splitlines()
    if not raw_lines:
        raise ValueError(f"{tsv}: empty transcript file (expected a header row with 'file' and 'text')")
    header = _header(tsv, raw_lines[0])
    col = {name: i for i, name in enumerate(header)}
    lines = list(_parse(tsv, raw_lines, header))
    clashes = _clashes(tsv, lines)
    for line in lines:
        name = line.name
        path = Path(folder) / name
        fields = line.fields
        item = SpeechItem(
            id=line.id or f"{tsv.name}:{line.number}",
            text=fields[col["text"]].strip() if fields else None,
            speaker=(fields[col["speaker"]] or None) if fields and "speaker" in col else None,
            origin=f"{tsv.name}:{line.number} ({name})",
            load=lambda path=path, name=name: load_audio(path, source=name)[0],
        )
        if line.problem:
            item.problem = line.problem
        elif not name:
            item.problem = f"{tsv.name}:{line.number}: empty 'file' field"
        elif line.number in clashes:
            item.problem = clashes[line.number]
        elif not os.path.isfile(path):
            item.problem = f"{name}: file not found in {folder}"
        yield item
