"""LibriHeavy: lhotse CutSet JSONL(.gz) manifests, one MonoCut per line, read as plain JSON.

No lhotse dependency: a MonoCut line is a small, stable JSON record, and reading it directly
avoids lhotse's import cost and its own audio loading. Used fields:
``id``, ``start``/``duration`` (seconds into the recording), ``recording.sources[0].source``
(a path under ``download/librilight``, remapped by prefix), ``custom.texts[0]`` (cased and
punctuated) else ``supervisions[0].text``, ``supervisions[0].speaker``, and word timings from
``supervisions[0].alignment.word`` when present (lhotse keeps them relative to the cut start).
Recordings are read by seeking into them (FLAC supports it), never whole: on S3 in small blocks,
since s3fs's default block (50 MiB, read ahead) would fetch most of a LibriLight recording — tens
of MB — for every cut of a few hundred KB.

A cut whose recording is missing, does not decode or ends before the cut does is quarantined; an
I/O failure while reading (network, permissions, bad ``storage_options``) is raised as it is, so the
stage fails and a rerun resumes: a quarantine would make a passing outage permanent in a committed
version.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from typing import Any

import fsspec
import numpy as np
import soundfile as sf

from salad_core.audio import MIMI_SAMPLE_RATE, AudioDecodeError, downmix, resample
from salad_core.speech_sources.items import SpeechItem


def remap(path: str, prefixes: dict[str, str]) -> str:
    """Replace the longest matching prefix (LibriHeavy paths start with ``download/librilight``)."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            return prefixes[prefix].rstrip("/") + path[len(prefix.rstrip("/")) :]
    return path


# Read size on S3 for recordings: a seek plus a cut of a 16 kHz FLAC costs 2-3 requests of this.
RECORDING_BLOCK_BYTES = 256 << 10
# How much shorter than the cut a recording may end (lhotse's own default duration tolerance).
DURATION_TOLERANCE_S = 0.025


class _KeepIOError:
    """Passes libsndfile's reads to ``raw`` and keeps the first exception they raise.

    libsndfile calls them from C, where an exception cannot pass (cffi prints it and hands
    libsndfile zero bytes): a dropped connection would surface as "Internal psf_fseek() failed",
    a decode error, and the row would be quarantined for good.
    """

    def __init__(self, raw):
        self.raw, self.error = raw, None

    def _call(self, method: str, *args, failed=0):
        if self.error is None:
            try:
                return getattr(self.raw, method)(*args)
            except Exception as err:  # raised again by raise_io_error once libsndfile has returned
                self.error = err
        return failed

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._call("read", size, failed=b"")

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._call("seek", offset, whence)

    def tell(self) -> int:
        return self._call("tell")

    def raise_io_error(self) -> None:
        if self.error is not None:
            raise self.error


def read_range(url: str, start: float, duration: float | None, storage_options: dict[str, Any], source: str) -> np.ndarray:
    """Seconds [start, start + duration) of a recording as 24 kHz mono float32."""
    try:
        fs, path = fsspec.core.url_to_fs(url, **storage_options)
        raw = fs.open(path, "rb", block_size=RECORDING_BLOCK_BYTES)
    except FileNotFoundError as err:
        raise AudioDecodeError(source, "recording not found") from err  # the source names the path
    with raw:
        reader = _KeepIOError(raw)
        try:
            with sf.SoundFile(reader) as f:
                sr = f.samplerate
                first = int(round(start * sr))
                count = -1 if duration is None else int(round(duration * sr))
                if first:
                    f.seek(first)
                frames = f.read(frames=count, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
            reader.raise_io_error()
            raise AudioDecodeError(source, f"libsndfile could not read it: {getattr(err, 'error_string', err)}") from err
        reader.raise_io_error()
    if frames.shape[0] == 0:
        raise AudioDecodeError(source, "zero-length audio (the cut lies outside the recording)")
    if count > 0 and count - frames.shape[0] > DURATION_TOLERANCE_S * sr:
        raise AudioDecodeError(source, f"the recording ends {frames.shape[0] / sr:.3f} s into the cut of {duration:g} s")
    if not np.isfinite(frames).all():
        raise AudioDecodeError(source, "samples contain NaN or inf")
    return resample(downmix(frames), sr, MIMI_SAMPLE_RATE)


def open_lines(url: str, storage_options: dict[str, Any]) -> Iterator[str]:
    """Text lines of a manifest (gunzipped when the url ends in .gz), UTF-8, streamed without reading the whole file."""
    with fsspec.open(url, "rb", **storage_options) as raw:
        stream = gzip.GzipFile(fileobj=raw) if url.endswith(".gz") else raw
        for line in io.TextIOWrapper(stream, encoding="utf-8"):
            yield line


def cut_text(cut: dict) -> str | None:
    """A cut's transcript: the first of `custom.texts` when present, else the first supervision's text; None when there is neither."""
    texts = (cut.get("custom") or {}).get("texts") or []
    if texts and texts[0]:
        return texts[0]
    sups = cut.get("supervisions") or []
    return sups[0].get("text") if sups else None


def cut_word_timings(cut: dict) -> list[dict] | None:
    """Word timings in seconds from the first supervision's word alignment as [{word, start, end}], or None when the cut has none."""
    sups = cut.get("supervisions") or []
    words = ((sups[0].get("alignment") or {}).get("word") if sups else None) or None
    if not words:
        return None
    return [{"word": w["symbol"], "start": float(w["start"]), "end": float(w["start"]) + float(w["duration"])} for w in words]


def read_libriheavy(manifests: list[str], prefixes: dict[str, str], storage_options: dict[str, Any]) -> Iterator[SpeechItem]:
    """One item per Libriheavy MonoCut line, in manifest order, with audio read lazily from the (remapped) recording range;
    unusable lines become items with `problem` set."""
    for manifest in manifests:
        name = manifest.rsplit("/", 1)[-1]
        for line_no, line in enumerate(open_lines(manifest, storage_options), start=1):
            if not line.strip():
                continue
            origin = f"{name}:{line_no}"
            try:
                cut = json.loads(line)
                recording = cut["recording"]
                url = remap(recording["sources"][0]["source"], prefixes)
                start, duration = float(cut.get("start", 0.0)), float(cut["duration"])
            except (json.JSONDecodeError, KeyError, IndexError, TypeError, ValueError) as err:
                yield SpeechItem(
                    id=origin, text=None, speaker=None, origin=origin, load=_never, problem=f"{origin}: not a usable MonoCut line ({type(err).__name__}: {err})"
                )
                continue
            sups = cut.get("supervisions") or []
            timings = cut_word_timings(cut)
            yield SpeechItem(
                id=str(cut.get("id") or origin),
                text=(cut_text(cut) or "").strip(),
                speaker=(sups[0].get("speaker") if sups else None),
                origin=f"{origin} ({url})",
                load=lambda url=url, s=start, d=duration, src=f"{origin} ({url})": read_range(url, s, d, storage_options, src),
                word_timings=timings,
                timings_source="source" if timings else None,
            )


def _never() -> np.ndarray:
    raise AssertionError("items with a problem are never loaded")
