"""The micro-teacher: beats the unigram baseline, and trains deterministically."""

from __future__ import annotations

import pytest
import torch

from salad_core.corpus.bundled import generate_bundled_corpus
from salad_core.teacher.corpus_text import split_documents
from salad_core.teacher.evaluate import evaluate_teacher
from salad_core.teacher.lr_schedule import warmup_cosine
from salad_core.teacher.pretraining import new_tiny_teacher, pretrain, window_batches
from salad_core.teacher.threads import torch_threads
from salad_core.teacher.token_stream import corpus_token_streams, token_windows
from salad_core.teacher.tokenizer import train_bpe_tokenizer
from tests.tiny_models import MICRO_TEACHER

MICRO = MICRO_TEACHER


@pytest.fixture(scope="module")
def corpus():
    return [generate_bundled_corpus(200)]


@pytest.fixture(scope="module")
def tokenizer(corpus):
    return train_bpe_tokenizer(split_documents(corpus, MICRO.held_out_fraction, held_out=False), MICRO.vocab_size)


@pytest.fixture(scope="module")
def streams(corpus, tokenizer):
    return corpus_token_streams(corpus, tokenizer, MICRO.held_out_fraction, MICRO.max_eval_tokens)


def test_streams_split_by_document_and_end_with_eos(corpus, streams, tokenizer):
    non_empty = sum(1 for text in corpus[0].column("text").to_pylist() if text)
    uncapped = corpus_token_streams(corpus, tokenizer, MICRO.held_out_fraction, max_eval_tokens=10**9)
    assert uncapped.train_docs + uncapped.held_out_docs == non_empty and 5 <= uncapped.held_out_docs <= 40
    assert torch.equal(uncapped.train, streams.train)
    assert streams.held_out.numel() == MICRO.max_eval_tokens and torch.equal(uncapped.held_out[: MICRO.max_eval_tokens], streams.held_out)
    assert streams.train[-1].item() == tokenizer.eos_token_id
    assert (streams.train == tokenizer.eos_token_id).sum().item() == streams.train_docs
    windows = token_windows(streams.train, 64)
    assert windows.shape[1] == 65 and torch.equal(windows[1, 0], windows[0, -1])  # every token a target once


def test_micro_teacher_beats_unigram(streams, tokenizer):
    with torch_threads(MICRO.cpu_threads):
        model = new_tiny_teacher(MICRO, len(tokenizer))
        result = pretrain(model, token_windows(streams.train, MICRO.seq_len), MICRO)
        report = evaluate_teacher(model, streams, len(tokenizer), MICRO.seq_len)
    assert result.steps == 200 and result.tokens == 200 * 8 * 64
    assert result.losses[-1] < result.losses[0] - 2.0
    assert report.eval_tokens > 1000
    assert report.unigram_perplexity > 50
    assert report.ratio < 0.5, report.stats()


def test_same_seed_same_loss_other_seed_other_loss(streams, tokenizer):
    config = MICRO.model_copy(update={"train_steps": 15})
    windows = token_windows(streams.train, config.seq_len)

    def final_loss(seed: int) -> float:
        cfg = config.model_copy(update={"seed": seed})
        with torch_threads(cfg.cpu_threads):
            return pretrain(new_tiny_teacher(cfg, len(tokenizer)), windows, cfg).final_loss

    first = final_loss(0)
    torch.manual_seed(1234)  # the global RNG state before a run must not matter
    assert final_loss(0) == pytest.approx(first, abs=1e-6)
    assert final_loss(1) != pytest.approx(first, abs=1e-6)


def test_window_order_is_seeded_and_covers_each_epoch():
    first = torch.cat([b for b, _ in zip(window_batches(10, 4, seed=7), range(5))])
    again = torch.cat([b for b, _ in zip(window_batches(10, 4, seed=7), range(5))])
    assert torch.equal(first, again)
    assert sorted(first[:10].tolist()) == list(range(10)) and sorted(first[10:20].tolist()) == list(range(10))


def test_warmup_then_cosine_to_floor():
    f = warmup_cosine(warmup=10, total=110, floor=0.1)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.55) and f(110) == pytest.approx(0.1) and f(500) == pytest.approx(0.1)
