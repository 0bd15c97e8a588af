"""Emilia / Emilia-YODAS: WebDataset tar shards of ``<key>.mp3`` + ``<key>.json``, local or s3://.

The tar is streamed (never extracted, never seeked, so S3 reads are sequential). Members are
paired by key (the name up to its first dot, as WebDataset does); a key with only one of the two
files is quarantined. Emilia's json says ``id``, Emilia-YODAS's says ``_id``; either is the item id.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from typing import Any

import fsspec

from salad_core.audio import decode_audio
from salad_core.speech_sources.items import SpeechItem

AUDIO_SUFFIXES = ("mp3", "wav", "flac")


def read_emilia(shards: list[str], storage_options: dict[str, Any]) -> Iterator[SpeechItem]:
    """Items from Emilia-style WebDataset tar shards (a JSON plus an audio member per key), streamed in shard order with audio
    decoded lazily; unreadable tars, bad metadata and incomplete samples come as items with `problem` set, not exceptions."""
    for shard in shards:
        name = shard.rsplit("/", 1)[-1]
        pending: dict[str, dict[str, bytes]] = {}
        order: list[str] = []
        with fsspec.open(shard, "rb", **storage_options) as raw:
            try:
                with tarfile.open(fileobj=raw, mode="r|*") as tar:
                    for member in tar:
                        if not member.isfile():
                            continue
                        base = member.name.rsplit("/", 1)[-1]
                        key, _, suffix = base.partition(".")
                        prefix = member.name[: len(member.name) - len(base)]
                        key = prefix + key
                        if key not in pending:
                            pending[key] = {}
                            order.append(key)
                        pending[key][suffix.lower()] = tar.extractfile(member).read()
                        parts = pending[key]
                        if "json" in parts and any(s in parts for s in AUDIO_SUFFIXES):
                            yield _item(name, key, pending.pop(key))
                            order.remove(key)
            except tarfile.TarError as err:
                yield _broken(name, "<tar>", f"{name}: unreadable tar ({err})")
        for key in order:  # keys missing their audio or their json
            have = sorted(pending[key])
            yield _broken(name, key, f"{name}:{key}: incomplete sample (has {have}, needs json and audio)")


def _item(shard: str, key: str, parts: dict[str, bytes]) -> SpeechItem:
    suffix = next(s for s in AUDIO_SUFFIXES if s in parts)
    origin = f"{shard}:{key}.{suffix}"
    try:
        meta = json.loads(parts["json"])
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except ValueError as err:
        return _broken(shard, key, f"{shard}:{key}.json: unreadable metadata ({err})")
    audio = parts[suffix]
    speaker = meta.get("speaker")
    return SpeechItem(
        id=str(meta.get("id") or meta.get("_id") or key),
        text=(meta.get("text") or "").strip(),
        speaker=str(speaker) if speaker is not None else None,
        origin=origin,
        load=lambda: decode_audio(audio, source=origin)[0],
    )


def _broken(shard: str, key: str, problem: str) -> SpeechItem:
    return SpeechItem(id=f"{shard}:{key}", text=None, speaker=None, origin=f"{shard}:{key}", load=_never, problem=problem)


def _never():
    raise AssertionError("items with a problem are never loaded")
