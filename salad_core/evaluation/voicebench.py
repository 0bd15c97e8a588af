"""VoiceBench `mmsu` / `openbookqa` rows: a spoken prompt, its text, the answer letter.

Usage:
    from salad_core.evaluation.voicebench import parse_voicebench, split_prompt
    question, options = split_prompt("Which ...?\nA. one\nB. two\nAnswer with the letter.")

`prompt` is the question, then lettered options `A. ...` on their own lines, then an instruction;
`reference` is the answer letter. The options become text continuations (as for every other
benchmark); the shipped `audio` ({bytes, path}, any rate) is decoded and stored as 24 kHz FLAC,
to be tokenised instead of synthesised. Undecodable audio is a row error (quarantined), not a skip.
"""

from __future__ import annotations

import re

from salad_core.audio import AudioDecodeError, decode_audio, encode_flac
from salad_core.evaluation.items import McItem, RowError

_OPTION = re.compile(r"^\s*\(?([A-J])[\.\):]\s*(.*\S)\s*$")


def split_prompt(prompt: str) -> tuple[str, list[tuple[str, str]]]:
    """(question, [(letter, option text)]) of a VoiceBench prompt; text after the options is dropped."""
    lines = prompt.splitlines()
    question, options = [], []
    for line in lines:
        match = _OPTION.match(line)
        if match and (not options and match.group(1) == "A" or options and ord(match.group(1)) == ord(options[-1][0]) + 1):
            options.append((match.group(1), match.group(2)))
        elif options:
            break  # the instruction after the options
        else:
            question.append(line)
    return "\n".join(question).strip(), options


def parse_voicebench(record: dict, benchmark: str, index: int) -> McItem:
    """A VoiceBench row (prompt with "A. ..." option lines, letter reference, optional audio re-encoded to FLAC) as an item;
    RowError when any part is missing or invalid."""
    prompt, reference = record.get("prompt"), record.get("reference")
    if not isinstance(prompt, str) or not prompt.strip():
        raise RowError("empty text: missing prompt")
    question, options = split_prompt(prompt)
    if not options:
        raise RowError("missing options: no 'A. ...' lines in the prompt")
    letters = [letter for letter, _ in options]
    ref = str(reference or "").strip().rstrip(".").upper()
    if ref not in letters:
        raise RowError(f"answer out of range: reference {reference!r} is not among {letters}")
    audio = record.get("audio")
    flac = None
    if isinstance(audio, dict) and audio.get("bytes"):
        source = str(audio.get("path") or f"{benchmark}-{index}")
        try:
            samples, sr = decode_audio(audio["bytes"], source=source)
        except AudioDecodeError as exc:
            raise RowError(f"undecodable audio: {exc}") from exc
        flac = encode_flac(samples, sr)
    return McItem(
        id=str(record.get("id") or f"{benchmark}-{index}"),
        benchmark=benchmark,
        context="",
        question=question,
        options=tuple(text for _, text in options),
        answer=letters.index(ref),
        audio=flac,
    )
