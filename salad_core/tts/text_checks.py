"""Decide, before synthesis, whether a text is speakable at all.

Usage:
    reason = check_text(row_text, max_chars=config.max_chars)
    if reason is not None:
        quarantine(row, reason)        # the caller's business; never crash the stage

Web text contains empty rows, tables of numbers, code, and other languages. A TTS engine
given such text either crashes, hangs, or spells characters one by one; all of them waste
synthesis time and poison the probe set. The reasons are written for a human reading the
quarantine table.
"""

from __future__ import annotations

import unicodedata

ENGLISH_SCRIPTS = frozenset({"LATIN"})
"""Scripts an English voice can read aloud. Digits and punctuation have no script here."""

_ALLOWED_CONTROL = {"\n", "\r", "\t"}


def letter_script(ch: str) -> str:
    """The Unicode script of a letter, taken from its character name ("LATIN", "CJK", "ARABIC")."""
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:  # unnamed code point
        return "UNKNOWN"


def check_text(
    text: object,
    max_chars: int,
    scripts: frozenset[str] = ENGLISH_SCRIPTS,
    max_foreign_fraction: float = 0.1,
) -> str | None:
    """Return why `text` cannot be synthesised, or None when it can.

    Args:
        text: The candidate text.
        max_chars: Longest text accepted; longer texts make multi-minute clips that do not fit
            a 2048-position context anyway.
        scripts: Scripts the backend's language can speak (first word of the Unicode name).
        max_foreign_fraction: Share of letters from other scripts that is still tolerated,
            so an English text quoting one Greek symbol is kept.
    """
    if not isinstance(text, str):
        return f"not a string (got {type(text).__name__})"
    if text == "":
        return "empty text"
    if text.strip() == "":
        return "only whitespace"
    if len(text) > max_chars:
        return f"too long: {len(text)} characters, the limit is {max_chars}"
    controls = [ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROL]
    if controls:
        return f"contains control characters (e.g. {controls[0]!r})"
    letters = [ch for ch in text if unicodedata.category(ch).startswith("L")]
    if not letters:
        return "no letters: only punctuation, digits or symbols"
    foreign: dict[str, int] = {}
    for ch in letters:
        script = letter_script(ch)
        if script not in scripts:
            foreign[script] = foreign.get(script, 0) + 1
    n_foreign = sum(foreign.values())
    if n_foreign > max_foreign_fraction * len(letters):
        main = max(foreign, key=foreign.get)
        return f"script not speakable by this voice: {n_foreign} of {len(letters)} letters are not {'/'.join(sorted(scripts))} (mostly {main})"
    return None
