"""The teacher tokenizer: trained BPE with special tokens and speech markers, stored as one row."""

from __future__ import annotations

import pytest

from salad_core.corpus.bundled import generate_bundled_corpus
from salad_core.interleave.tokenize import tokenize_words
from salad_core.teacher.corpus_text import split_documents
from salad_core.teacher.tokenizer import SPEECH_END, SPEECH_START, speech_marker_ids, train_bpe_tokenizer
from salad_core.teacher.tokenizer_table import TOKENIZER_SCHEMA, table_to_tokenizer, tokenizer_to_table


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return list(split_documents([generate_bundled_corpus(200)], held_out_fraction=0.1, held_out=False))


@pytest.fixture(scope="module")
def tokenizer(texts):
    return train_bpe_tokenizer(texts, vocab_size=1000)


def test_special_tokens_and_distinct_speech_markers(tokenizer):
    assert tokenizer.eos_token == "<|endoftext|>" and tokenizer.bos_token == "<|bos|>"
    assert tokenizer.pad_token == "<|pad|>" and tokenizer.unk_token == "<|unk|>"
    start, end = speech_marker_ids(tokenizer)
    special_ids = [tokenizer.eos_token_id, tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.unk_token_id, start, end]
    assert special_ids == [0, 1, 2, 3, 4, 5]  # fixed ids: the same for every corpus
    assert {SPEECH_START, SPEECH_END} <= set(tokenizer.all_special_tokens)
    # a marker inside text is one token, never split into bytes
    assert tokenizer.encode(f"a{SPEECH_START}b{SPEECH_END}", add_special_tokens=False)[1::2] == [start, end]
    assert tokenizer.decode([start, 300, end], skip_special_tokens=True) == tokenizer.decode([300])


def test_vocab_bound_and_lossless_bytes(tokenizer, texts):
    assert 300 < len(tokenizer) <= 1000
    odd = "Zoë's naïve café — 3.14 µm, 東京\n\ttabs"  # nothing in the corpus; bytes still cover it
    ids = tokenizer.encode(odd, add_special_tokens=False)
    assert tokenizer.unk_token_id not in ids and tokenizer.decode(ids) == odd
    assert tokenizer.encode(texts[0]) == tokenizer.encode(texts[0], add_special_tokens=False)  # like Qwen: no bos/eos added


def test_word_by_word_equals_whole_text(tokenizer, texts):
    """The interleaving code concatenates per-word tokens; they must equal the transcript's tokens."""
    for text in texts[:20]:
        words = text.split()
        per_word = [t for word in tokenize_words(words, tokenizer) for t in word]
        assert per_word == tokenizer.encode(" ".join(words), add_special_tokens=False)


def test_training_is_deterministic(texts, tokenizer):
    again = train_bpe_tokenizer(texts, vocab_size=1000)
    assert again.backend_tokenizer.to_str() == tokenizer.backend_tokenizer.to_str()


def test_table_round_trip(tokenizer, texts):
    table = tokenizer_to_table(tokenizer, source="embedded")
    assert table.schema == TOKENIZER_SCHEMA and table.num_rows == 1
    row = table.to_pylist()[0]
    assert row["vocab_size"] == len(tokenizer) and (row["speech_start_id"], row["speech_end_id"]) == speech_marker_ids(tokenizer)
    back = table_to_tokenizer(table)
    assert back.backend_tokenizer.to_str() == tokenizer.backend_tokenizer.to_str()
    assert back.all_special_tokens == tokenizer.all_special_tokens
    assert speech_marker_ids(back) == speech_marker_ids(tokenizer)
    batch = texts[:10]
    assert back(batch, add_special_tokens=False)["input_ids"] == tokenizer(batch, add_special_tokens=False)["input_ids"]
