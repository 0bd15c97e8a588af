"""Readers for speech corpora: a folder + transcript TSV, LibriHeavy cut manifests, Emilia tars.

Usage:
    from salad_core.speech_sources import SpeechSourceConfig, read_items, utterance_rows
    config = SpeechSourceConfig(kind="folder", folder="/data/clips")       # transcripts.tsv inside
    for item in read_items(config):          # SpeechItem: id, text, speaker, lazy audio bytes
        ...

Every reader yields items in a deterministic order (sorted inputs, file order within them), so
fixed-size shards of that stream are stable across runs: what makes ingest resumable. Audio is
fetched lazily (``item.load()``) so a resumed run skips the download and decode of committed rows.
"""

from salad_core.speech_sources.config import SpeechSourceConfig
from salad_core.speech_sources.items import SpeechItem, WordTiming
from salad_core.speech_sources.readers import input_files, read_items
from salad_core.speech_sources.reasons import reason_kind
from salad_core.speech_sources.utterances import (
    QUARANTINE_SCHEMA,
    UTTERANCE_SCHEMA,
    UtteranceBuilder,
)

__all__ = [
    "QUARANTINE_SCHEMA",
    "UTTERANCE_SCHEMA",
    "SpeechItem",
    "SpeechSourceConfig",
    "UtteranceBuilder",
    "WordTiming",
    "input_files",
    "read_items",
    "reason_kind",
]
