"""The kind of a quarantine reason: one stats key per kind, whatever file, line or id the reason names.

    reason_kind("implausible clip: transcripts.tsv:3 (short.wav): 0.020 s long ...")  # -> "implausible clip"

Reasons carry details (file, line, member, the other copy of an id) for the person reading the
quarantine; stats must not grow one key per file or id, so they count by kind. The readers and
the builder write the reasons, so the mapping lives beside them.
"""

from __future__ import annotations

from salad_core.speech_sources.folder_tsv import DUPLICATE_ID, MALFORMED_LINE, NOT_UTF8
from salad_core.speech_sources.utterances import IMPLAUSIBLE_CLIP

PREFIX_KINDS = ("forced alignment failed", IMPLAUSIBLE_CLIP, MALFORMED_LINE, NOT_UTF8, DUPLICATE_ID)
INNER_KINDS = ("empty transcript", "file not found", "incomplete sample", "not a usable MonoCut", "recording not found")


def reason_kind(reason: str) -> str:
    """The kind of a quarantine reason (a fixed set of stats keys, or "other"), ignoring the file, line and id details it names."""
    for kind in PREFIX_KINDS:
        if reason.startswith(kind):
            return kind
    for kind in INNER_KINDS:
        if kind in reason:
            return kind
    if "into the cut" in reason:  # libriheavy.read_range: "the recording ends 3.2 s into the cut of 5 s"
        return "recording shorter than the cut"
    return "undecodable audio" if reason.startswith("cannot decode audio") else "other"
