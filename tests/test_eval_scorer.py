"""Scoring: golden log-probs on a hand-built bigram model, batching changes nothing, the speech view, few-shot packing.

Run: .venv/bin/python -m pytest tests/test_eval_scorer.py -x -q
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from salad_core.corpus.bundled import generate_bundled_corpus
from salad_core.evaluation import EvalConfig
from salad_core.evaluation.bundled_mc import bundled_items
from salad_core.evaluation.fewshot import choose_shots
from salad_core.evaluation.items import McItem
from salad_core.evaluation.loglik import Request, TextLM, loglikelihoods
from salad_core.evaluation.prompts import query_text
from salad_core.evaluation.scorer import build_requests, score_items
from salad_core.model import (
    AdapterConfig,
    SpeechAdapter,
    SpeechLM,
    llm_from_config,
    tiny_qwen2_config,
)
from salad_core.teacher.tokenizer import train_bpe_tokenizer

torch.set_num_threads(1)

# --------------------------------------------------------------------------- a hand-built model

CHARS = "\0 ab:Q?"  # \0 is the pad


class CharTokenizer:
    """One token per character: the test can count tokens and positions by hand."""

    pad_token_id = 0

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [CHARS.index(c) for c in text]}


class BigramLM(nn.Module):
    """hidden = one-hot of the current character; head = log P(next | current): log-probs known by hand."""

    def __init__(self, table: dict[str, dict[str, float]]):
        super().__init__()
        v = len(CHARS)
        weights = torch.full((v, v), -30.0)
        for prev, nexts in table.items():
            for nxt, p in nexts.items():
                weights[CHARS.index(nxt), CHARS.index(prev)] = math.log(p)
        self.head = nn.Linear(v, v, bias=False)
        self.head.weight.data = weights

    def hidden_states(self, input_ids, attention_mask=None, **_):
        return nn.functional.one_hot(input_ids, len(CHARS)).float()


# After ":" a space; after " " mostly "a"; "a" -> "b" (0.9); "b" -> "a" (0.9). Long "abab..." is likely per character.
TABLE = {":": {" ": 1.0}, " ": {"a": 0.6, "b": 0.4}, "a": {"b": 0.9, "a": 0.1}, "b": {"a": 0.9, "b": 0.1}, "Q": {"?": 1.0}, "?": {":": 1.0}}


def test_hand_built_example_golden_log_probs_and_normalised_choice():
    item = McItem(id="x", benchmark="bundled_mc", context="Q?:", question="", options=("b", "ababab"), answer=1)
    config = EvalConfig(n_shots=0, batch_size=2)
    [score] = score_items(BigramLM(TABLE), CharTokenizer(), [item], config)
    # " b": P(' '|:) P(b|' ') = 1 * 0.4 ; " ababab": 1 * 0.6 * 0.9^5
    assert score.logprobs[0] == pytest.approx(math.log(0.4), abs=1e-6)
    assert score.logprobs[1] == pytest.approx(math.log(0.6) + 5 * math.log(0.9), abs=1e-6)
    assert score.n_chars == (1, 6)
    # raw sum prefers the short option (-0.916 > -1.037); per character the long right one wins (-0.173 > -0.916)
    assert score.pred_raw == 0 and not score.correct_raw
    assert score.pred_norm == 1 and score.correct_norm


def test_ties_go_to_the_first_option():
    item = McItem(id="t", benchmark="bundled_mc", context="Q?:", question="", options=("a", "a "), answer=0)
    [score] = score_items(BigramLM({**TABLE, "a": {" ": 0.5, "b": 0.5}}), CharTokenizer(), [item], EvalConfig(n_shots=0))
    assert score.pred_raw == 0


# --------------------------------------------------------------------------- a tiny Qwen2 and its tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe_tokenizer(generate_bundled_corpus(300, seed=3)["text"].to_pylist(), vocab_size=600)


@pytest.fixture(scope="module")
def student(tokenizer):
    torch.manual_seed(0)
    llm = llm_from_config(tiny_qwen2_config(len(tokenizer), hidden=64, n_layer=2)).eval()
    adapter = SpeechAdapter(AdapterConfig.preset("tiny", llm_hidden=64)).eval()
    return SpeechLM(llm, adapter)


@pytest.fixture(scope="module")
def items():
    return bundled_items(n_items=28, n_options=4, seed=5)


def _flat(scores) -> list[float]:
    return [x for s in scores for x in s.logprobs]


def _reference_logprob(llm, ids: list[int], n_cont: int) -> float:
    """Straight from the definition: one sequence, full logits, sum of the continuation's log-probs."""
    with torch.no_grad():
        logits = llm(input_ids=torch.tensor([ids[:-1]])).logits[0].float().log_softmax(-1)
    return float(sum(logits[len(ids) - 1 - n_cont + k, ids[len(ids) - n_cont + k]] for k in range(n_cont)))


def test_batched_scores_equal_one_sequence_at_a_time_and_the_definition(student, tokenizer, items):
    config = EvalConfig(n_shots=2, max_positions=512, batch_size=7)
    batched = score_items(TextLM(student.llm), tokenizer, items[:10], config, pool=items)
    single = score_items(TextLM(student.llm), tokenizer, items[:10], config.model_copy(update={"batch_size": 1}), pool=items)
    for a, b in zip(batched, single):
        assert a.logprobs == pytest.approx(b.logprobs, abs=2e-4)
    reqs, _ = build_requests(tokenizer, items[0], items, config)
    for k, r in enumerate(reqs):
        assert batched[0].logprobs[k] == pytest.approx(_reference_logprob(student.llm, r.prefix + r.continuation, len(r.continuation)), abs=2e-4)


def test_student_text_view_through_the_speech_lm_equals_its_llm(student, tokenizer, items):
    config = EvalConfig(n_shots=1, max_positions=512)
    via_speech_lm = score_items(student, tokenizer, items[:4], config, pool=items)
    via_llm = score_items(TextLM(student.llm), tokenizer, items[:4], config, pool=items)
    assert _flat(via_speech_lm) == pytest.approx(_flat(via_llm), abs=1e-5)


def test_speech_view_puts_the_frames_where_the_spoken_part_was(student, tokenizer, items):
    torch.manual_seed(1)
    frames = {i.id: torch.randn(5 + 3 * n, 512) for n, i in enumerate(items[:6])}  # latents, different lengths
    config = EvalConfig(n_shots=2, max_positions=512, batch_size=5)
    scores = score_items(student, tokenizer, items, config, frames=frames)
    assert [s.id for s in scores] == [i.id for i in items[:6]]  # only items with frames
    one = score_items(student, tokenizer, items, config.model_copy(update={"batch_size": 1}), frames=frames)
    assert _flat(scores) == pytest.approx(_flat(one), abs=2e-4)
    # by hand: prefix tokens, adapter outputs at the frame positions, continuation
    item = items[2]
    reqs, _ = build_requests(tokenizer, item, items, config, frames[item.id])
    r = reqs[item.answer]
    with torch.no_grad():
        embeds = student.llm.get_input_embeddings()
        speech = student.adapter(frames[item.id][None])[0]
        seq = torch.cat([embeds(torch.tensor(r.prefix)), speech, embeds(torch.tensor(list(r.suffix) + r.continuation[:-1]))])
        lp = student.head(student.llm.base_model(inputs_embeds=seq[None]).last_hidden_state)[0].log_softmax(-1)
    n = len(r.continuation)
    expected = sum(float(lp[seq.shape[0] - n + k, r.continuation[k]]) for k in range(n))
    assert scores[2].logprobs[item.answer] == pytest.approx(expected, abs=2e-4)


def test_speech_view_with_integer_codes_and_markers(student, tokenizer, items):
    codebook = torch.randn(8, 16, 64)

    def codes_to_latents(codes):  # (S, n_q, F) -> (S, 512, F): a fixed random codebook sum
        summed = sum(codebook[q][codes[:, q]] for q in range(codes.shape[1]))  # (S, F, 64)
        return summed.repeat(1, 1, 8).transpose(1, 2)

    model = SpeechLM(student.llm, student.adapter, codes_to_latents)
    frames = {items[0].id: torch.randint(0, 16, (7, 8), dtype=torch.int16)}
    config = EvalConfig(n_shots=0, speech_markers=True)
    reqs, _ = build_requests(tokenizer, items[0], items, config, frames[items[0].id])
    start, end = tokenizer.convert_tokens_to_ids(["<|speech_start|>", "<|speech_end|>"])
    assert reqs[0].prefix[-1] == start and reqs[0].suffix[0] == end
    [score] = score_items(model, tokenizer, items[:1], config, frames=frames)
    assert all(math.isfinite(x) for x in score.logprobs)


# --------------------------------------------------------------------------- few-shot packing


@pytest.mark.parametrize("budget", [120, 200, 400])
def test_fewshot_packing_never_exceeds_the_context_and_never_includes_the_item(tokenizer, items, budget):
    duplicate = McItem(**{**items[0].__dict__, "id": "same-question-other-id"})
    pool = [*items, duplicate]
    config = EvalConfig(n_shots=5, max_positions=budget, seed=7)
    for item in items:
        shots = choose_shots(item, pool, 5, config.seed)
        assert item.id not in {s.id for s in shots} and query_text(item) not in {query_text(s) for s in shots}
        reqs, n_shots = build_requests(tokenizer, item, pool, config)
        longest = max(len(r) for r in reqs)
        if n_shots:
            assert longest <= budget
        if n_shots < len(shots):  # one more shot would not have fitted
            more, _ = build_requests(tokenizer, item, pool, config.model_copy(update={"max_positions": 10**6, "n_shots": n_shots + 1}))
            assert max(len(r) for r in more) > budget
    # the choice is seeded by (seed, item id): the same on every call, different for another seed
    assert choose_shots(items[3], pool, 5, 7) == choose_shots(items[3], pool, 5, 7) != choose_shots(items[3], pool, 5, 8)


def test_too_long_item_is_left_truncated_like_the_harness():
    """The harness feeds (context + continuation)[-(max_length + 1):][:-1]: the oldest context tokens go."""
    from salad_core.evaluation.loglik import _truncated

    ids = CharTokenizer()("QQ?:ab ab:")["input_ids"]
    r = Request(prefix=ids, continuation=CharTokenizer()(" a")["input_ids"])
    kept = _truncated(r, max_positions=5)
    assert kept.prefix == ids[-4:] and len(kept) - 1 == 5
    [score] = loglikelihoods(BigramLM(TABLE), [r], max_positions=5)
    assert score.logprob == pytest.approx(math.log(1.0) + math.log(0.6), abs=1e-6)
    assert score.greedy
