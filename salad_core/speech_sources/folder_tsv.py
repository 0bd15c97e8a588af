"""A folder of audio files with a transcript TSV (header row; `file`, `text`, optional `speaker`).

The TSV is tab-separated with no quoting (transcripts may contain quotes); the item id is the
file name without its extension, so the same clip keeps its id whatever format it is stored in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from salad_core.audio import load_audio
from salad_core.speech_sources.items import SpeechItem


def transcript_path(folder: str, transcripts: str) -> Path:
    path = Path(transcripts)
    return path if path.is_absolute() else Path(folder) / path


def read_folder(folder: str, transcripts: str) -> Iterator[SpeechItem]:
    tsv = transcript_path(folder, transcripts)
    lines = tsv.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise ValueError(f"{tsv}: empty transcript file (expected a header row with 'file' and 'text')")
    header = lines[0].split("\t")
    missing = [c for c in ("file", "text") if c not in header]
    if missing:
        raise ValueError(f"{tsv}: header has no column(s) {missing}; found {header}")
    col = {name: i for i, name in enumerate(header)}
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        fields += [""] * (len(header) - len(fields))
        name = fields[col["file"]]
        path = Path(folder) / name
        speaker = fields[col["speaker"]] if "speaker" in col else None
        item = SpeechItem(
            id=Path(name).stem,
            text=fields[col["text"]].strip(),
            speaker=speaker or None,
            origin=f"{tsv.name}:{line_no} ({name})",
            load=lambda path=path, name=name: load_audio(path, source=name)[0],
        )
        if not name:
            item.problem = f"{tsv.name}:{line_no}: empty 'file' field"
        elif not os.path.isfile(path):
            item.problem = f"{name}: file not found in {folder}"
        yield item
