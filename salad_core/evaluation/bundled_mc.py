"""The embedded-default benchmark: pick the true next sentence of a held-out bundled paragraph.

Usage:
    from salad_core.evaluation.bundled_mc import bundled_items
    items = bundled_items(n_items=280, n_options=4, seed=0)   # 20 per topic, 14 topics

Why this task: the tiny teacher cannot do ARC, but after pretraining on the bundled corpus it
knows each topic's vocabulary and sentence shapes, so it can tell which sentence continues a
paragraph. Distractors are sentences at the same position in other paragraphs: one from the SAME
topic (so topic words alone do not give the answer) and the rest from other topics. Chance is
1 / n_options.

Held out by construction: paragraphs come from the bundled composer (`compose_document`) under a
random stream of its own (`salad-bundled-mc-v1:<seed>:<i>`), never the corpus's
(`salad-bundled-v1:row:<seed>:<index>`), so no item document is a corpus document; the tests check
that no item's context + answer occurs in the 3,000-document training corpus. Sentences can
repeat template wordings seen in training (that is the point: the model has learned the domain),
not whole paragraphs.
"""

from __future__ import annotations

import random
import re

from salad_core.corpus.bundled import BUNDLED_TOPICS, compose_document
from salad_core.corpus.bundled_topics import TOPICS
from salad_core.evaluation.items import McItem

BENCHMARK = "bundled_mc"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
MIN_CONTEXT_SENTENCES = 2


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.replace("\n\n", " ")) if s.strip()]


def _paragraph(seed: int, topic: str, i: int) -> list[str]:
    rng = random.Random(f"salad-bundled-mc-v1:{seed}:{topic}:{i}")
    return sentences_of(compose_document(TOPICS[topic], rng))


def bundled_items(n_items: int = 280, n_options: int = 4, seed: int = 0) -> list[McItem]:
    """`n_items` items spread evenly over the topics (the first `n_items % 14` topics get one more)."""
    if n_options < 2:
        raise ValueError(f"n_options must be >= 2, got {n_options}")
    topics = list(BUNDLED_TOPICS)
    # A pool of paragraphs per topic: item paragraphs and distractor sources, all from the held-out stream.
    per_topic = -(-n_items // len(topics))
    pool = {t: [_paragraph(seed, t, i) for i in range(2 * per_topic + 4)] for t in topics}
    rng = random.Random(f"salad-bundled-mc-v1:items:{seed}")
    items = []
    for k in range(n_items):
        topic = topics[k % len(topics)]
        j = k // len(topics)
        sentences = pool[topic][j]
        cut = rng.randint(MIN_CONTEXT_SENTENCES, max(MIN_CONTEXT_SENTENCES, min(len(sentences) - 1, 6)))
        context, truth = sentences[:cut], sentences[cut]
        distractors = [_distractor(pool[topic][per_topic:], cut, context, truth, rng)]
        others = rng.sample([t for t in topics if t != topic], n_options - 2)
        distractors += [_distractor(pool[t], cut, context, truth, rng) for t in others]
        options = [truth, *distractors]
        rng.shuffle(options)
        items.append(
            McItem(
                id=f"{BENCHMARK}-{seed}-{k:05d}", benchmark=BENCHMARK, context=" ".join(context), question="",
                options=tuple(options), answer=options.index(truth), topic=topic,
            )
        )
    return items


def _distractor(paragraphs: list[list[str]], cut: int, context: list[str], truth: str, rng: random.Random) -> str:
    """A sentence near position `cut` of another paragraph, different from the truth and the context."""
    order = rng.sample(range(len(paragraphs)), len(paragraphs))
    for p in order:
        sentences = paragraphs[p]
        for s in sorted(range(1, len(sentences)), key=lambda s: abs(s - cut)):
            if sentences[s] != truth and sentences[s] not in context:
                return sentences[s]
    raise RuntimeError("no distractor sentence left in the pool")  # cannot happen with the bundled topics
