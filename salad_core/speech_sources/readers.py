"""One entry point over the three readers, plus the input identities for the fingerprint."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from salad_core.speech_sources.config import SpeechSourceConfig
from salad_core.speech_sources.emilia import read_emilia
from salad_core.speech_sources.files import expand, identity
from salad_core.speech_sources.folder_tsv import read_folder, transcript_path
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
    if config.kind == "folder":
        items = read_folder(config.folder, config.transcripts)
    elif config.kind == "libriheavy":
        items = read_libriheavy(expand(config.paths, config.storage_options), config.path_remap, config.storage_options)
    else:
        items = read_emilia(expand(config.paths, config.storage_options), config.storage_options)
    return islice(items, config.limit) if config.limit else items
