"""Interleaved samples from word-aligned utterances: run lengths, seeding, context cap, tokens.

Run: .venv/bin/python -m pytest tests/test_interleave_builder.py -q
"""

import math

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from salad_core.interleave import (
    AlignedUtterance,
    InterleaveConfig,
    MarkerSegment,
    SpeechSegment,
    TextSegment,
    interleave_utterance,
    speech_frame_span,
)

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Speech models learn from text teachers when both read the same words.",
    "A frozen teacher keeps its knowledge while the student learns to listen.",
    "Numbers like 1984 and 2048, punctuation, and CamelCase words appear too!",
    "She sells sea shells by the sea shore; the shells she sells are surely sea shells.",
]


@pytest.fixture(scope="module")
def bpe() -> Tokenizer:
    """A tiny byte-level BPE (GPT-2/Qwen-style pre-tokenizer), trained here in milliseconds."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<speech>", "</speech>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(SENTENCES * 4, trainer)
    return tok


def make_utterance(n_words: int, uid: str = "utt") -> AlignedUtterance:
    """Words 0.32 s long with 0.08 s pauses, starting at 0.1 s."""
    vocab = " ".join(SENTENCES).split()
    words = [vocab[i % len(vocab)] for i in range(n_words)]
    starts = [0.1 + 0.4 * i for i in range(n_words)]
    ends = [s + 0.32 for s in starts]
    return AlignedUtterance(
        utterance_id=uid,
        words=words,
        word_starts=starts,
        word_ends=ends,
        n_frames=math.ceil((ends[-1] + 0.1) * 12.5),
    )


def runs(sample):
    return [s for s in sample.segments if not isinstance(s, MarkerSegment)]


@pytest.mark.parametrize("seed", range(8))
def test_runs_alternate_within_bounds_and_cover_all_words(bpe, seed):
    utt = make_utterance(300)
    sample = interleave_utterance(utt, bpe, InterleaveConfig(), seed=seed)
    parts = runs(sample)
    assert len(parts) >= 10
    for a, b in zip(parts, parts[1:]):
        assert type(a) is not type(b), "runs must alternate"
        assert a.word_end == b.word_start, "runs must tile the words"
    assert parts[0].word_start == 0 and parts[-1].word_end == 300
    for part in parts[:-1]:  # the last run may be cut short by the end of the utterance
        n = part.word_end - part.word_start
        lo, hi = (10, 30) if isinstance(part, TextSegment) else (5, 15)
        assert lo <= n <= hi, (type(part).__name__, n)
    assert 0 < parts[-1].word_end - parts[-1].word_start <= 30


def test_speech_frames_tile_the_audio_without_overlap(bpe):
    utt = make_utterance(120)
    sample = interleave_utterance(utt, bpe, InterleaveConfig(first_run="speech"), seed=3)
    spans = [s for s in sample.segments if isinstance(s, SpeechSegment)]
    for a, b in zip(spans, spans[1:]):
        assert a.end_frame <= b.start_frame
    assert all(0 <= s.start_frame < s.end_frame <= utt.n_frames for s in spans)
    assert spans[0].start_frame == round(0.1 * 12.5)  # first word's onset (frame 1)


def test_speech_frame_span_hand_example():
    utt = make_utterance(10)
    # words 2..4: start at the middle of the pause before word 2 (0.1+0.8-0.04 = 0.86 s -> 10.75 -> 11),
    # end in the middle of the pause after word 4 (0.1+2.0-0.04 = 2.06 s -> 25.75 -> 26)
    assert speech_frame_span(utt, 2, 5, 12.5) == (11, 26)
    # the last word runs to its own end: 0.1+3.6+0.32 = 4.02 s -> 50.25 -> 50
    assert speech_frame_span(utt, 8, 10, 12.5)[1] == 50


def test_same_seed_same_sample_other_seed_other_sample(bpe):
    utt = make_utterance(200)
    a = interleave_utterance(utt, bpe, InterleaveConfig(), seed=11)
    b = interleave_utterance(utt, bpe, InterleaveConfig(), seed=11)
    assert a == b
    others = [interleave_utterance(utt, bpe, InterleaveConfig(), seed=s) for s in range(12, 16)]
    assert any(o.segments != a.segments for o in others)


@pytest.mark.parametrize("cap", [40, 97, 2048])
def test_context_cap_is_respected(bpe, cap):
    utt = make_utterance(2000)  # ~800 s: far beyond 2048 positions
    cfg = InterleaveConfig(max_positions=cap, speech_start_id=1, speech_end_id=2)
    sample = interleave_utterance(utt, bpe, cfg, seed=5)
    assert sample.n_positions <= cap
    assert len(sample.teacher_ids) <= cap
    assert sample.n_positions > cap - 30  # the cap cuts the last run; it does not end the sample early
    covered = runs(sample)[-1].word_end
    assert sample.teacher_ids == [t for w in range(covered) for t in _word_ids(bpe, utt.words, w)]


def _word_ids(tok, words, i):
    return tok.encode(words[i] if i == 0 else " " + words[i], add_special_tokens=False).ids


@pytest.mark.parametrize("wrap", [False, True], ids=["tokenizers", "transformers"])
def test_teacher_tokens_equal_whole_transcript_tokenization(bpe, wrap):
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe) if wrap else bpe
    utt = make_utterance(90)
    sample = interleave_utterance(utt, tokenizer, InterleaveConfig(), seed=0)
    assert sample.teacher_ids == bpe.encode(" ".join(utt.words), add_special_tokens=False).ids
    for seg in sample.segments:
        if isinstance(seg, TextSegment):
            assert seg.token_ids == sample.teacher_ids[seg.teacher_start : seg.teacher_start + seg.length]


def test_markers_wrap_speech_runs_and_are_never_targets(bpe):
    S, E = bpe.token_to_id("<speech>"), bpe.token_to_id("</speech>")
    utt = make_utterance(100)
    sample = interleave_utterance(utt, bpe, InterleaveConfig(speech_start_id=S, speech_end_id=E), seed=2)
    segs = sample.segments
    for i, seg in enumerate(segs):
        if isinstance(seg, SpeechSegment):
            assert segs[i - 1] == MarkerSegment(token_id=S) and segs[i + 1] == MarkerSegment(token_id=E)
    assert S not in sample.target_ids and E not in sample.target_ids
    # the targets are exactly the text tokens (teacher index k >= 1), each predicted at teacher k-1
    text_k = [s.teacher_start + j for s in segs if isinstance(s, TextSegment) for j in range(s.length)]
    assert sample.teacher_positions == [k - 1 for k in text_k if k >= 1]


def test_every_text_token_after_the_first_is_a_target(bpe):
    utt = make_utterance(150)
    sample = interleave_utterance(utt, bpe, InterleaveConfig(first_run="text"), seed=4)
    n_text = sum(s.length for s in sample.segments if isinstance(s, TextSegment))
    assert len(sample.target_ids) == n_text - 1
    for j, y in zip(sample.teacher_positions, sample.target_ids):
        assert sample.teacher_ids[j + 1] == y


def test_sample_round_trips_through_json(bpe):
    sample = interleave_utterance(make_utterance(60), bpe, InterleaveConfig(speech_start_id=1), seed=9)
    assert type(sample).model_validate_json(sample.model_dump_json()) == sample


def test_bad_timings_are_rejected():
    with pytest.raises(ValueError):
        AlignedUtterance(utterance_id="x", words=["a", "b"], word_starts=[0.0, 1.0], word_ends=[0.5, 0.9], n_frames=20)
    with pytest.raises(ValueError):
        InterleaveConfig(text_words=(10, 5))
