"""Streamed top terms per cluster over a bounded vocabulary.

Usage:
    counter = ClusterTermCounter(k=128, max_vocabulary=20_000)
    for texts, clusters in stream:
        counter.add(texts, clusters)
    counter.top_terms(10)            # list (one per cluster) of its 10 most distinctive terms

Counts are document frequencies (a term counts once per document, so one long page cannot own a
cluster's vocabulary) of lower-cased alphabetic words of three letters or more, English stop words
left out. Memory is bounded: when the vocabulary reaches twice max_vocabulary, only the
max_vocabulary terms with the highest corpus counts are kept (lossy counting: frequent terms survive
with exact counts from the moment they were last admitted; rare ones are forgotten).
A term's score in cluster c is p(t|c) · log(p(t|c) / p(t)): frequent in the cluster and much more
frequent there than in the corpus, a TF-IDF in spirit that ignores terms common everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

WORD = re.compile(r"[a-z]{3,}")
MAX_CHARS_PER_DOCUMENT = 5_000  # the opening of a page names its topic; bounds the cost of one row


def english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop-word list, imported lazily so importing this module does not need sklearn."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


class ClusterTermCounter:
    def __init__(self, k: int, max_vocabulary: int = 20_000):
        self.k, self.max_vocabulary = k, max_vocabulary
        self.capacity = 2 * max_vocabulary
        self.vocabulary: dict[str, int] = {}
        self.cluster_counts = np.zeros((k, self.capacity), dtype=np.int64)
        self.corpus_counts = np.zeros(self.capacity, dtype=np.int64)
        self.documents = np.zeros(k, dtype=np.int64)
        self._stop_words = english_stop_words()

    def add(self, texts: Sequence[str | None], clusters: Sequence[int] | np.ndarray) -> None:
        """Count each document's distinct terms once for its cluster (cluster ids in 0..k-1, aligned with `texts`); prunes the
        vocabulary when it would exceed capacity."""
        rows: list[int] = []
        columns: list[int] = []
        for text, cluster in zip(texts, np.asarray(clusters).tolist()):
            terms = self.terms_of(text)
            if len(self.vocabulary) + len(terms) > self.capacity:
                self._count(rows, columns)
                rows, columns = [], []
                self._prune()
            for term in terms:
                columns.append(self.vocabulary.setdefault(term, len(self.vocabulary)))
            rows.extend([cluster] * len(terms))
            self.documents[cluster] += 1
        self._count(rows, columns)

    def terms_of(self, text: str | None) -> set[str]:
        """Distinct lower-cased alphabetic words (3+ letters) of a document's first MAX_CHARS_PER_DOCUMENT characters, stop words removed; empty for None or ""."""
        if not text:
            return set()
        words = WORD.findall(text[:MAX_CHARS_PER_DOCUMENT].lower())
        return {w for w in words if w not in self._stop_words}

    def top_terms(self, n: int) -> list[list[str]]:
        """Per cluster 0..k-1, up to `n` terms with positive distinctiveness score, best first and ties by term, so the result does
        not depend on insertion order."""
        terms = np.array(sorted(self.vocabulary, key=self.vocabulary.__getitem__) or [""], dtype=object)
        used = len(self.vocabulary)
        total = max(int(self.documents.sum()), 1)
        p_term = self.corpus_counts[:used] / total
        result = []
        for cluster in range(self.k):
            counts = self.cluster_counts[cluster, :used]
            if self.documents[cluster] == 0 or n == 0 or not counts.any():
                result.append([])
                continue
            p_in = counts / self.documents[cluster]
            with np.errstate(divide="ignore", invalid="ignore"):
                score = np.where(counts > 0, p_in * np.log(p_in / p_term), -np.inf)
            # highest score first, ties by term so the list never depends on insertion order
            order = np.lexsort((terms[:used].astype(str), -score))
            result.append([str(terms[i]) for i in order[:n] if score[i] > 0])
        return result

    def _count(self, rows: list[int], columns: list[int]) -> None:
        if rows:
            np.add.at(self.cluster_counts, (np.asarray(rows), np.asarray(columns)), 1)
            np.add.at(self.corpus_counts, np.asarray(columns), 1)

    def _prune(self) -> None:
        """Keep the max_vocabulary most frequent terms (ties by term), renumbered 0..max_vocabulary-1."""
        used = len(self.vocabulary)
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        order = sorted(range(used), key=lambda i: (-self.corpus_counts[i], terms[i]))[: self.max_vocabulary]
        keep = np.asarray(order, dtype=np.int64)
        cluster_counts = np.zeros_like(self.cluster_counts)
        corpus_counts = np.zeros_like(self.corpus_counts)
        cluster_counts[:, : len(keep)] = self.cluster_counts[:, keep]
        corpus_counts[: len(keep)] = self.corpus_counts[keep]
        self.cluster_counts, self.corpus_counts = cluster_counts, corpus_counts
        self.vocabulary = {terms[old]: new for new, old in enumerate(order)}
