"""Turn a backend's sparse timing events into one (word, start, end) per word of the text.

Usage:
    anchors = [(char_index, start_s, end_s_or_None), ...]   # from espeak events / Kokoro tokens
    timings = words_from_anchors(text, anchors, duration_s, audio=audio, sample_rate=24000)

Engines do not time the words the caller sees: espeak-ng merges "of the" into one event and
splits "42" into "forty" + "two"; Kokoro times its own tokens, punctuation included. The
interleaving stage needs the transcript's own words (whitespace-separated tokens, as written),
so every token gets a time: its own event when it has one, a share of the surrounding interval
(proportional to its length) when the engine merged it into a neighbour.
"""

from __future__ import annotations

import bisect
import re

import numpy as np

from salad_core.tts.interface import WordTiming

_WORD = re.compile(r"\S+")


def words_from_anchors(
    text: str,
    anchors: list[tuple[int, float, float | None]],
    duration_s: float,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> list[WordTiming]:
    """One (word, start_s, end_s) per whitespace token; starts non-decreasing, all inside the clip.

    Args:
        text: The text that was spoken.
        anchors: (0-based character index into `text`, start_s, end_s or None) per engine event.
        duration_s: Length of the audio; bounds every time.
        audio, sample_rate: When given, a word whose end is unknown ends at its last non-silent
            10 ms frame instead of at the next word's start, so pauses are not counted as speech.
    """
    spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    if not spans:
        return []
    span_starts = [s for s, _, _ in spans]
    starts: list[float | None] = [None] * len(spans)
    ends: list[float | None] = [None] * len(spans)
    for char_index, start, end in anchors:
        i = bisect.bisect_right(span_starts, char_index) - 1
        if i < 0 or char_index >= spans[i][1]:
            continue  # the event points at whitespace or outside the text
        start = min(max(start, 0.0), duration_s)
        starts[i] = start if starts[i] is None else min(starts[i], start)
        if end is not None:
            end = min(max(end, start), duration_s)
            ends[i] = end if ends[i] is None else max(ends[i], end)

    _fill_missing_starts(starts, [len(w) for _, _, w in spans], duration_s)
    running = 0.0
    for i, s in enumerate(starts):  # engines occasionally report a start slightly out of order
        running = max(running, s)
        starts[i] = running

    peak = float(np.max(np.abs(audio))) if audio is not None and audio.size else 0.0
    timings: list[WordTiming] = []
    for i, (_, _, word) in enumerate(spans):
        limit = starts[i + 1] if i + 1 < len(spans) else duration_s
        end = ends[i]
        if end is None:
            end = limit
            if audio is not None and sample_rate and peak > 0.0:
                end = _last_voiced_time(audio, sample_rate, peak, starts[i], limit)
        timings.append((word, float(starts[i]), float(min(max(end, starts[i]), duration_s))))
    return timings


def _fill_missing_starts(starts: list[float | None], lengths: list[int], duration_s: float) -> None:
    """Give un-timed words a share of the gap between the timed words around them.

    A run of un-timed words after timed word a and before timed word b shares [start_a, start_b]
    with word a, in proportion to character length (the engine spoke them inside a's event).
    """
    if starts[0] is None:
        starts[0] = 0.0
    i = 0
    n = len(starts)
    while i < n:
        j = i + 1
        while j < n and starts[j] is None:
            j += 1
        if j > i + 1:  # words i+1 .. j-1 have no time
            t_end = starts[j] if j < n else duration_s
            total = sum(lengths[i:j])
            t = starts[i]
            span = max(t_end - starts[i], 0.0)
            for k in range(i + 1, j):
                t += span * lengths[k - 1] / total
                starts[k] = t
        i = j


def _last_voiced_time(audio: np.ndarray, sample_rate: int, peak: float, start_s: float, end_s: float) -> float:
    """End of the last 10 ms frame in [start_s, end_s) louder than 2% of the clip's peak."""
    hop = max(sample_rate // 100, 1)
    a, b = int(start_s * sample_rate), int(end_s * sample_rate)
    segment = np.abs(audio[a:b])
    if segment.size == 0:
        return end_s
    n_frames = -(-segment.size // hop)
    padded = np.zeros(n_frames * hop, dtype=np.float32)
    padded[: segment.size] = segment
    loud = np.flatnonzero(padded.reshape(n_frames, hop).max(axis=1) > 0.02 * peak)
    if loud.size == 0:
        return end_s
    return min(end_s, start_s + (loud[-1] + 1) * hop / sample_rate)
