"""Text a careful crawler would not keep as it is: control characters and mojibake.

    control_character_problem("a\\x1b[31mred")   # -> "U+001B ESC at offset 1 (1 control character in all)"
    fix = find_mojibake("teacherâ€™s cafÃ©")     # -> MojibakeFix(fixed="teacher’s café", steps="encode ...")

Why: NUL bytes and terminal escape sequences inside words are binary debris of a bad crawl; they
survive tokenizers and land in embeddings and TTS input. Mojibake (UTF-8 read as Windows-1252,
once or twice) keeps every letter "valid" so no simpler check sees it; ftfy is the maintained
detector and repairer for exactly that, and it reports what it undid, which we record.
Tab, newline, carriage return, form feed and vertical tab are layout, not debris.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ftfy

MOJIBAKE_DETECTOR = f"ftfy {ftfy.__version__} fix_encoding"  # recorded in the ingest stats

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x1B: "ESC", 0x7F: "DEL"}


def _describe(ch: str) -> str:
    code = ord(ch)
    name = _NAMES.get(code)
    return f"U+{code:04X} {name}" if name else f"U+{code:04X}"


def control_character_problem(text: str) -> str | None:
    """Where the first control character is and how many there are, or None for clean text."""
    first = _CONTROL.search(text)
    if first is None:
        return None
    count = len(_CONTROL.findall(text))
    plural = "" if count == 1 else "s"
    return f"{_describe(first.group())} at offset {first.start()} ({count} control character{plural} in all)"


@dataclass(frozen=True)
class MojibakeFix:
    fixed: str
    steps: str  # what ftfy undid, e.g. "encode sloppy-windows-1252, decode utf-8"
    example: str  # the first changed word, before -> after


def find_mojibake(text: str) -> MojibakeFix | None:
    """ftfy's repair of mis-decoded text, or None when ftfy finds nothing to undo.

    Only `fix_encoding` runs: curly quotes, ligatures and the like are left as written.
    """
    # ASCII cannot be mojibake (ftfy returns at once for it too): 61 of the 150 real FineWeb-Edu
    # documents here skip ftfy entirely; its detector costs ~1 ms per document on the others
    if text.isascii() or not ftfy.is_bad(text):
        return None
    result = ftfy.fix_encoding_and_explain(text)
    if result.text == text:
        return None
    steps = ", ".join(f"{action} {arg}" for action, arg in (result.explanation or []))
    return MojibakeFix(fixed=result.text, steps=steps or "ftfy fix_encoding", example=_first_change(text, result.text))


def _first_change(before: str, after: str) -> str:
    old, new = before.split(), after.split()
    for a, b in zip(old, new):
        if a != b:
            return f"{a[:40]!r} -> {b[:40]!r}"
    return f"{before[:40]!r} -> {after[:40]!r}"
