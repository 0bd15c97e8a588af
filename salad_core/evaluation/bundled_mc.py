"""The embedded-default benchmark: complete a held-out bundled paragraph with the right topic term.

Usage:
    from salad_core.evaluation.bundled_mc import bundled_items
    items = bundled_items(n_items=280, n_options=4, seed=0)   # 20 per topic, 14 topics

Each item is a paragraph cut just before one of its topic's terms ("... Teachers often use a
simple diagram to explain"); the options are that term (" black holes"), another term of the SAME
topic that the paragraph has not used (so topic knowledge alone gets at most half of those right;
the rest needs the paragraph itself, e.g. a term it mentioned earlier) and terms of other topics.
Chance is 1 / n_options. This is what a tiny LM trained on the bundled corpus can show: it knows
each topic's vocabulary and follows a paragraph's subject. (Choosing the next *sentence* among
sentences of other paragraphs does not work at that scale: a sentence's log-probability is
dominated by how common its template is, not by whether it fits; measured at chance, 25.0%.)

Held out by construction: paragraphs come from the bundled composer (`compose_document`) under a
random stream of its own (`salad-bundled-mc-v2:<seed>:...`), never the corpus's
(`salad-bundled-v1:row:<seed>:<index>`), so no item paragraph is a corpus document; the tests check
that no item's context + answer occurs in the 3,000-document training corpus. Sentences can repeat
template wordings seen in training (the model has learned the domain), not whole paragraphs.
"""

from __future__ import annotations

import random
import re

from salad_core.corpus.bundled import BUNDLED_TOPICS, compose_document
from salad_core.corpus.bundled_topics import TOPICS
from salad_core.evaluation.items import McItem

BENCHMARK = "bundled_mc"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
MIN_CONTEXT_SENTENCES = 1  # sentences before the one holding the blank
_MAX_TRIES = 50


def sentences_of(text: str) -> list[str]:
    """Non-empty sentences in order, split after . ! or ? followed by whitespace and a capital; paragraph breaks count as spaces."""
    return [s.strip() for s in _SENTENCE_END.split(text.replace("\n\n", " ")) if s.strip()]


def _blanks(sentences: list[str], terms: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """(sentence index, char offset, term) of every topic term after the first words of a later sentence."""
    found = []
    for s in range(MIN_CONTEXT_SENTENCES, len(sentences)):
        for term in terms:
            for match in re.finditer(rf"(?<=\s){re.escape(term)}(?=[\s.,;:!?])", sentences[s]):
                found.append((s, match.start(), term))
    return sorted(found)


def bundled_items(n_items: int = 280, n_options: int = 4, seed: int = 0) -> list[McItem]:
    """`n_items` items spread evenly over the topics (the first `n_items % 14` topics get one more)."""
    if n_options < 3:
        raise ValueError(f"n_options must be >= 3 (the answer, a same-topic and an other-topic term), got {n_options}")
    topics = list(BUNDLED_TOPICS)
    rng = random.Random(f"salad-bundled-mc-v2:items:{seed}")
    items = []
    for k in range(n_items):
        topic = topics[k % len(topics)]
        terms = TOPICS[topic].terms
        for attempt in range(_MAX_TRIES):
            doc_rng = random.Random(f"salad-bundled-mc-v2:{seed}:{topic}:{k // len(topics)}:{attempt}")
            sentences = sentences_of(compose_document(TOPICS[topic], doc_rng))
            blanks = _blanks(sentences, terms)
            if blanks:
                break
        else:
            raise RuntimeError(f"no {topic} paragraph with a term to blank out in {_MAX_TRIES} tries")  # never seen
        s, offset, truth = rng.choice(blanks)
        context = " ".join(sentences[:s] + [sentences[s][:offset].rstrip()])
        unused = [t for t in terms if t != truth and t not in context]
        others = rng.sample([t for t in topics if t != topic], n_options - 2)
        options = [truth, rng.choice(unused), *(rng.choice(TOPICS[o].terms) for o in others)]
        rng.shuffle(options)
        items.append(
            McItem(
                id=f"{BENCHMARK}-{seed}-{k:05d}",
                benchmark=BENCHMARK,
                context=context,
                question="",
                options=tuple(options),
                answer=options.index(truth),
                topic=topic,
            )
        )
    return items
