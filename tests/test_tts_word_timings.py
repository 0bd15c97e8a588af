"""words_from_anchors: one timing per word, merged words share time, silences are trimmed."""

from __future__ import annotations

import numpy as np

from salad_core.tts.word_timings import words_from_anchors


def test_one_timing_per_word_with_merged_word_interpolated():
    text = "a test of the speech"
    # the engine timed "of" and "the" as one event (espeak does this); "the" has no event
    anchors = [(0, 0.0, None), (2, 0.2, None), (7, 0.6, None), (14, 1.0, None)]
    timings = words_from_anchors(text, anchors, duration_s=1.5)
    assert [w for w, _, _ in timings] == ["a", "test", "of", "the", "speech"]
    starts = [s for _, s, _ in timings]
    assert starts[:3] == [0.0, 0.2, 0.6]
    assert 0.6 < starts[3] < 1.0  # "of" and "the" split [0.6, 1.0] by length: 2 vs 3 letters
    assert abs(starts[3] - (0.6 + 0.4 * 2 / 5)) < 1e-9
    assert timings[-1][2] == 1.5


def test_known_ends_are_kept_and_clipped():
    timings = words_from_anchors("hello world", [(0, 0.1, 0.4), (6, 0.5, 9.0)], duration_s=1.0)
    assert timings == [("hello", 0.1, 0.4), ("world", 0.5, 1.0)]


def test_events_for_one_word_split_in_pieces_use_the_earliest():
    # espeak reads "42" as "forty" + "two": two events inside one written word
    anchors = [(0, 0.0, None), (3, 0.2, None), (6, 0.4, None), (7, 0.7, None), (9, 1.0, None)]
    timings = words_from_anchors("it is 42 now", anchors, 1.3)
    assert [(w, s) for w, s, _ in timings] == [("it", 0.0), ("is", 0.2), ("42", 0.4), ("now", 1.0)]


def test_trailing_silence_is_trimmed_from_word_end():
    sr = 1000
    audio = np.zeros(2 * sr, dtype=np.float32)
    audio[:300] = 0.5  # "one" is voiced for 0.3 s, then silence until "two" at 1.0 s
    audio[1000:1400] = 0.5
    timings = words_from_anchors("one two", [(0, 0.0, None), (4, 1.0, None)], 2.0, audio=audio, sample_rate=sr)
    assert abs(timings[0][2] - 0.3) < 0.011
    assert abs(timings[1][2] - 1.4) < 0.011


def test_no_anchors_spreads_words_over_the_clip():
    timings = words_from_anchors("aa bb", [], duration_s=1.0)
    assert [round(s, 6) for _, s, _ in timings] == [0.0, 0.5]


def test_out_of_order_events_still_give_monotone_starts():
    timings = words_from_anchors("x y z", [(0, 0.5, None), (2, 0.3, None), (4, 0.9, None)], 1.0)
    starts = [s for _, s, _ in timings]
    assert starts == sorted(starts)


def test_empty_text():
    assert words_from_anchors("   ", [], 1.0) == []
