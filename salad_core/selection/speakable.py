"""Cut a web document to a speakable text: its first whole sentences, up to a word limit.

Usage:
    text, words = speakable_cut("One two. Three four five. Six.", max_words=5)   # ("One two. Three four five.", 5)
    speakable_cut("A sentence far longer than the limit ...", max_words=3)        # ("", 0): nothing whole fits

Why whole sentences: a cut in mid-sentence makes the TTS end on a rising, unfinished prosody and
the probe then measures the model on speech no selection text will have. Why from the start: the
opening of a page names its topic, the thing its cluster was built from.
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")
CHARS_PER_WORD_BOUND = 40  # only this many characters per allowed word are looked at: long pages cost no more than short ones
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def sentences(text: str) -> list[str]:
    """Sentences of a whitespace-normalised text, split after . ! ? (and closing quotes/brackets)."""
    flat = _SPACES.sub(" ", text or "").strip()
    if not flat:
        return []
    parts, start = [], 0
    for match in _SENTENCE_END.finditer(flat):
        parts.append(flat[start : match.end()].strip())
        start = match.end()
    parts.append(flat[start:].strip())
    return [p for p in parts if p]


def word_count(text: str) -> int:
    """Whitespace-separated word count, the unit `speakable_cut` limits texts by."""
    return len(text.split())


def speakable_cut(text: str | None, max_words: int) -> tuple[str, int]:
    """(the longest run of leading whole sentences with at most max_words words, its word count)."""
    text = text or ""
    window = text[: max_words * CHARS_PER_WORD_BOUND]
    parts = sentences(window)
    if len(window) < len(text) and parts:
        parts = parts[:-1]  # the window may end inside this sentence
    kept, words = [], 0
    for sentence in parts:
        n = word_count(sentence)
        if words + n > max_words:
            break
        kept.append(sentence)
        words += n
    return " ".join(kept), words
