"""One entry point over the three readers, plus the input identities for the fingerprint.

Ids are unique in what `read_items` yields: a later item with an id seen before (the same
Emilia sample in two tars, a cut listed in two manifests) gets the problem "duplicate id ...:
first seen at <origin>", so it is quarantined naming both places; the first is kept. The check
runs on the reader stream, which a resumed run reads again from the start, so a resumed run
quarantines exactly the same items. (The folder reader already refuses every copy of a clashing
id, since nothing says which of X.wav and X.flac is meant.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from salad_core.speech_sources.config import SpeechSourceConfig
from salad_core.speech_sources.emilia import read_emilia
from salad_core.speech_sources.files import expand, identity
from salad_core.speech_sources.folder_tsv import DUPLICATE_ID, read_folder, transcript_path
from salad_core.speech_sources.items import SpeechItem
from salad_core.speech_sources.libriheavy import read_libriheavy


def input_files(config: SpeechSourceConfig) -> list[dict[str, Any]]:
    """What was read, with sizes: the transcript TSV and audio files, or the manifests/tars.

    LibriHeavy recordings are not listed (hundreds of thousands of files); the manifests name them.
    """
    if config.kind == "folder":
        tsv = transcript_path(config.folder, config.transcripts)
        files = [tsv] + sorted(p for p in Path(config.folder).iterdir() if p.is_file() and p != tsv)
        return [{"url": p.name, "size": p.stat().st_size} for p in files]
    return [identity(url, config.storage_options) for url in expand(config.paths, config.storage_options)]


def read_items(config: SpeechSourceConfig) -> Iterator[SpeechItem]:
    """Items of the configured source, duplicate ids marked as problems, cut to `limit` when set; lazy, in the source's order."""
    if config.kind == "folder":
        items = read_folder(config.folder, config.transcripts)
    elif config.kind == "libriheavy":
        items = read_libriheavy(expand(config.paths, config.storage_options), config.path_remap, config.storage_options)
    else:
        items = read_emilia(expand(config.paths, config.storage_options), config.storage_options)
    items = unique_ids(items)
    return islice(items, config.limit) if config.limit else items


def unique_ids(items: Iterator[SpeechItem]) -> Iterator[SpeechItem]:
    """Pass items through, marking each repeat of an already seen id as a duplicate problem (the first keeps it); memory ~ a 12-byte hash per id."""
    first_seen: dict[bytes, str] = {}  # 12-byte id hash -> origin: ~100 bytes per item
    for item in items:
        key = hashlib.blake2b(item.id.encode(), digest_size=12).digest()
        if key not in first_seen:
            first_seen[key] = item.origin
        elif item.problem is None:
            item.problem = f"{DUPLICATE_ID} {item.id!r}: {item.origin} repeats the id first seen at {first_seen[key]}"
        yield item
