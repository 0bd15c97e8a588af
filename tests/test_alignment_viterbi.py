"""CTC forced alignment on hand-built emissions: exact spans, the impossible case, and optimality by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from salad_core.alignment import AlignmentError, TokenSpan, forced_align, frames_needed
from salad_core.alignment.aligner import Vocabulary, word_frames

BLANK, H, E, L, O, I = 0, 1, 2, 3, 4, 5
VOCAB = 6


def emissions(labels: list[int], peak: float = 4.0) -> np.ndarray:
    """Log-probs where frame t clearly prefers labels[t]."""
    logits = np.zeros((len(labels), VOCAB))
    logits[np.arange(len(labels)), labels] = peak
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def spans(*triples: tuple[int, int, int]) -> list[TokenSpan]:
    return [TokenSpan(token=t, start=s, end=e) for t, s, e in triples]


def test_follows_the_emissions_with_blanks_at_start_and_end():
    log_probs = emissions([BLANK, BLANK, H, H, I, BLANK, BLANK])
    assert forced_align(log_probs, [H, I], BLANK) == spans((H, 2, 4), (I, 4, 5))


def test_a_repeated_letter_needs_a_blank_even_against_the_emissions():
    # the frames say "h e l l l o" (greedy decoding: "helo"); "hello" must put a blank between the l's
    log_probs = emissions([H, E, L, L, L, O])
    assert forced_align(log_probs, [H, E, L, L, O], BLANK) == spans((H, 0, 1), (E, 1, 2), (L, 2, 3), (L, 4, 5), (O, 5, 6))
    # with a blank frame present it is used, and each l keeps its own frames
    log_probs = emissions([BLANK, H, E, E, L, L, BLANK, L, O, BLANK])
    assert forced_align(log_probs, [H, E, L, L, O], BLANK) == spans((H, 1, 2), (E, 2, 4), (L, 4, 6), (L, 7, 8), (O, 8, 9))


def test_too_many_tokens_for_the_frames_raises_with_the_numbers():
    assert frames_needed([H, E, L, L, O]) == 6
    message = r"needs at least 6 frames \(5 tokens \+ 1 blanks between repeated tokens\) but the audio has 5"
    with pytest.raises(AlignmentError, match=message):
        forced_align(emissions([H, E, L, L, O]), [H, E, L, L, O], BLANK)
    assert forced_align(emissions([BLANK] * 3), [], BLANK) == []


def test_a_word_without_alignable_characters_gets_a_zero_length_span_between_its_neighbours():
    # "He 1455, oh-!" with a lower-case h/e/o vocabulary: "1455," has nothing to align, "oh-!" keeps "oh"
    vocab = Vocabulary(chars={"h": H, "e": E, "l": L, "o": O, "i": I}, delimiter=None, case=str.lower)
    words = ["He", "1455,", "oh-!"]
    target, owner = vocab.target(words)
    assert target == [H, E, O, H] and owner == [0, 0, 2, 2]
    found = forced_align(emissions([BLANK, H, E, BLANK, BLANK, O, H, BLANK]), target, BLANK)
    assert found == spans((H, 1, 2), (E, 2, 3), (O, 5, 6), (H, 6, 7))
    assert word_frames(len(words), found, owner) == [(1, 3), (3, 3), (5, 7)]
    # leading words without characters sit at the first aligned word's start
    assert word_frames(2, found[2:], [1, 1]) == [(5, 5), (5, 7)]


def test_delimiters_go_between_words_only():
    vocab = Vocabulary(chars={"H": H, "E": E, "L": L, "O": O}, delimiter=I, case=str.upper)
    assert vocab.target(["hello", "42", "Oh"]) == ([H, E, L, L, O, I, O, H], [0, 0, 0, 0, 0, None, 2, 2])


def brute_force(log_probs: np.ndarray, tokens: list[int]) -> tuple[float, list[TokenSpan]]:
    """Score and spans of the best label sequence that collapses to ``tokens`` (all V^T of them tried)."""
    best: tuple[float, list[TokenSpan]] = (-np.inf, [])
    for labels in itertools.product(range(log_probs.shape[1]), repeat=log_probs.shape[0]):
        found: list[TokenSpan] = []
        for t, label in enumerate(labels):
            if label == BLANK:
                continue
            if t > 0 and labels[t - 1] == label:
                found[-1] = TokenSpan(label, found[-1].start, t + 1)
            else:
                found.append(TokenSpan(label, t, t + 1))
        if [s.token for s in found] == tokens:
            score = float(sum(log_probs[t, label] for t, label in enumerate(labels)))
            if score > best[0]:
                best = (score, found)
    return best


def path_score(log_probs: np.ndarray, found: list[TokenSpan]) -> float:
    labels = np.full(log_probs.shape[0], BLANK)
    for span in found:
        labels[span.start : span.end] = span.token
    return float(log_probs[np.arange(len(labels)), labels].sum())


@pytest.mark.parametrize("tokens", [[1, 2, 3], [1, 1, 2], [2, 2, 2], [3, 1]])
@pytest.mark.parametrize("seed", range(4))
def test_viterbi_finds_the_best_of_all_valid_paths(tokens, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(6, 4)) * 2
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    best_score, best_spans = brute_force(log_probs, tokens)
    found = forced_align(log_probs, tokens, BLANK)
    assert path_score(log_probs, found) == pytest.approx(best_score, abs=1e-9)
    assert found == best_spans  # random scores: the optimum is unique


def test_long_targets_keep_exact_spans():
    # more than 127 states: back-pointers are int8, the state index must not be
    tokens = [H, E, L, O, I] * 60
    log_probs = emissions([t for t in tokens for _ in range(2)])
    assert forced_align(log_probs, tokens, BLANK) == [TokenSpan(t, 2 * k, 2 * k + 2) for k, t in enumerate(tokens)]
