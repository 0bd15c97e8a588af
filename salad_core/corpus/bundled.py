"""The embedded default corpus: deterministic, multi-topic educational paragraphs in FineWeb-Edu form.

No dataset can be downloaded where SALAD runs by default, so the pipeline starts from text that
project code writes itself. Each document is composed from one topic's templates, facts and
vocabulary (`bundled_topics.py`) plus shared connective sentences, under a random generator seeded
from (seed, row index) alone, so any row can be produced on its own and every machine produces the
same bytes. The topic of every row is in its url, which later stages use as clustering ground truth.

Use:
    python -c "from salad_core.corpus.bundled import generate_bundled_corpus; print(generate_bundled_corpus(10))"
    python -c "from salad_core.corpus.bundled import generate_bundled_corpus as g; print(g(3)['text'][0])"

    for batch in iter_bundled_batches(n_docs=3000, seed=0, batch_size=500):
        ...  # pyarrow.RecordBatch with FINEWEB_SCHEMA; same rows, same order, as the table

    topic_of_url(row["url"])  # -> "astronomy", ..., or INVALID_TOPIC for the deliberately bad rows
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator, Sequence
from typing import NamedTuple
from urllib.parse import urlsplit

import pyarrow as pa

from salad_core.corpus.bundled_topics import (
    BARE_FACT_LEAD,
    CLOSERS,
    CONNECTIVES,
    FACT_LEADS,
    OPENERS,
    SHARED_POOLS,
    TOPICS,
    TopicData,
)
from salad_core.corpus.fineweb_schema import FINEWEB_SCHEMA

BUNDLED_TOPICS: tuple[str, ...] = tuple(TOPICS)
INVALID_TOPIC = "invalid"
BUNDLED_DUMP = "SALAD-BUNDLED-v1"
BUNDLED_FILE_PATH = "bundled://salad/v1"
BUNDLED_HOST = "bundled.salad.invalid"
# Bumping this changes every id; it is part of the identity of the generated text.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, f"https://{BUNDLED_HOST}/v1")

MIN_WORDS = 60
MAX_WORDS = 250
_SPLIT_PROBABILITY = 0.12  # for documents of six or more sentences
_SLOT = re.compile(r"\{([a-z_]+?)(\d?)\}")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_COUNTS = tuple(str(n) for n in range(12, 36))
_BAD_KINDS = ("empty", "whitespace", "symbols")


# --------------------------------------------------------------------------- public API


def generate_bundled_corpus(n_docs: int = 3000, seed: int = 0, bad_fraction: float = 0.01) -> pa.Table:
    """The whole corpus as one table; built from the batches so the two can never disagree."""
    batches = list(iter_bundled_batches(n_docs, seed, batch_size=1024, bad_fraction=bad_fraction))
    return pa.Table.from_batches(batches, schema=FINEWEB_SCHEMA)


def iter_bundled_batches(n_docs: int = 3000, seed: int = 0, batch_size: int = 1024, bad_fraction: float = 0.01) -> Iterator[pa.RecordBatch]:
    """Streams the corpus without holding it, for writers that go shard by shard."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    plan = plan_rows(n_docs, seed, bad_fraction)
    for start in range(0, n_docs, batch_size):
        stop = min(start + batch_size, n_docs)
        yield rows_to_batch([make_row(seed, index, plan[index]) for index in range(start, stop)])


def topic_of_url(url: str) -> str:
    """Ground-truth topic of a bundled row, recovered from `https://bundled.salad.invalid/<topic>/<index>`."""
    parts = urlsplit(url)
    path = parts.path.strip("/").split("/")
    if parts.netloc != BUNDLED_HOST or len(path) != 2 or not path[1].isdigit():
        raise ValueError(f"not a bundled-corpus url: {url!r}")
    return path[0]


def count_tokens(text: str) -> int:
    """A tokenizer-free estimate (words and punctuation marks) so token_count never needs a model."""
    return len(_TOKEN.findall(text))


# --------------------------------------------------------------------------- row plan


class RowPlan(NamedTuple):
    topic: str
    bad_kind: str  # "" for a real document, else one of _BAD_KINDS


def plan_rows(n_docs: int, seed: int, bad_fraction: float) -> list[RowPlan]:
    """Each row's topic and junk kind, fixed up front so topics stay balanced and every junk kind shows up."""
    if n_docs < 0:
        raise ValueError(f"n_docs must be >= 0, got {n_docs}")
    if not 0.0 <= bad_fraction <= 1.0:
        raise ValueError(f"bad_fraction must be in [0, 1], got {bad_fraction}")
    rng = random.Random(f"salad-bundled-v1:plan:{seed}")
    n_bad = number_of_bad_rows(n_docs, bad_fraction)
    bad_positions = set(rng.sample(range(n_docs), n_bad))
    n_good = n_docs - n_bad
    good_topics = [BUNDLED_TOPICS[i % len(BUNDLED_TOPICS)] for i in range(n_good)]
    rng.shuffle(good_topics)
    plan = []
    bad_seen = 0
    for index in range(n_docs):
        if index in bad_positions:
            plan.append(RowPlan(INVALID_TOPIC, _BAD_KINDS[bad_seen % len(_BAD_KINDS)]))
            bad_seen += 1
        else:
            plan.append(RowPlan(good_topics.pop(), ""))
    return plan


def number_of_bad_rows(n_docs: int, bad_fraction: float) -> int:
    """At least one bad row whenever any are asked for, so small demo corpora still exercise quarantine."""
    if bad_fraction <= 0 or n_docs == 0:
        return 0
    return min(n_docs, max(1, round(n_docs * bad_fraction)))


# --------------------------------------------------------------------------- rows


def make_row(seed: int, index: int, plan: RowPlan) -> dict:
    """One row, depending only on (seed, index, its plan), which is what lets batches stream."""
    rng = random.Random(f"salad-bundled-v1:row:{seed}:{index}")
    if plan.bad_kind:
        text = compose_bad_text(rng, plan.bad_kind)
    else:
        text = compose_document(TOPICS[plan.topic], rng)
    score = round(rng.uniform(2.5, 5.0), 5)
    return {
        "text": text,
        "id": f"<urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'{seed}:{index}')}>",
        "dump": BUNDLED_DUMP,
        "url": f"https://{BUNDLED_HOST}/{plan.topic}/{index}",
        "file_path": BUNDLED_FILE_PATH,
        "language": "en",
        "language_score": round(rng.uniform(0.9, 1.0), 5),
        "token_count": count_tokens(text),
        "score": score,
        "int_score": min(5, max(0, round(score))),
    }


def rows_to_batch(rows: Sequence[dict]) -> pa.RecordBatch:
    """Row dicts (each with every FINEWEB_SCHEMA column) as one record batch of that schema, rows in order."""
    columns = {name: [row[name] for row in rows] for name in FINEWEB_SCHEMA.names}
    return pa.RecordBatch.from_pydict(columns, schema=FINEWEB_SCHEMA)


def compose_bad_text(rng: random.Random, kind: str) -> str:
    """The three shapes of junk that real crawls contain and quarantine must catch."""
    if kind == "empty":
        return ""
    if kind == "whitespace":
        return rng.choice(("   ", "\n\n", " \t \n ", "\t"))
    pieces = [rng.choice(("0123", "42", "9.99", "...", "!!", "--", "#", "***", "(7)", "%", "?!", "2024")) for _ in range(rng.randint(4, 12))]
    return " ".join(pieces)


# --------------------------------------------------------------------------- documents


def compose_document(topic: TopicData, rng: random.Random) -> str:
    """A paragraph (sometimes several) of MIN_WORDS..MAX_WORDS words about one topic."""
    target_words = pick_target_length(rng)
    document = _SentenceBudget()
    if rng.random() < 0.25:
        document.add(fill(rng.choice(OPENERS), topic, rng))
    candidates = [("template", t) for t in topic.templates] + [("fact", f) for f in topic.facts]
    rng.shuffle(candidates)
    connectives = rng.sample(CONNECTIVES, rng.randint(0, 2))
    fact_leads = rng.sample(FACT_LEADS, len(FACT_LEADS))
    for kind, body in candidates:
        if document.words >= target_words:
            break
        if document.sentences and connectives and rng.random() < 0.2:
            document.add(fill(connectives.pop(), topic, rng))
        if kind == "template":
            document.add(fill(body, topic, rng))
        else:
            lead = fact_leads.pop() if fact_leads and rng.random() < 0.5 else BARE_FACT_LEAD
            document.add(fill(lead.replace("{fact}", body), topic, rng))
    if rng.random() < 0.3:
        document.add(fill(rng.choice(CLOSERS), topic, rng))
    return join_paragraphs(document.sentences, rng)


class _SentenceBudget:
    """Collects sentences while refusing any that would push the document past MAX_WORDS."""

    def __init__(self) -> None:
        self.sentences: list[str] = []
        self.words = 0

    def add(self, sentence: str) -> None:
        n_words = len(sentence.split())
        if self.words + n_words <= MAX_WORDS:
            self.sentences.append(sentence)
            self.words += n_words


def pick_target_length(rng: random.Random) -> int:
    """Mostly short-to-medium documents with a tail of long ones, like web paragraphs."""
    if rng.random() < 0.7:
        return rng.randint(MIN_WORDS + 5, 150)
    return rng.randint(150, MAX_WORDS - 15)


def fill(template: str, topic: TopicData, rng: random.Random) -> str:
    """Fills `{slot}` and `{slot2}`; a numbered slot never repeats its pool's value within one sentence."""
    used: dict[str, set[str]] = {}

    def draw(match: re.Match) -> str:
        pool_name = match.group(1)
        pool = slot_pool(pool_name, topic)
        taken = used.setdefault(pool_name, set())
        choices = [value for value in pool if value not in taken] or list(pool)
        value = rng.choice(choices)
        taken.add(value)
        return value

    sentence = _SLOT.sub(draw, template)
    return sentence[0].upper() + sentence[1:]


def slot_pool(name: str, topic: TopicData) -> Sequence[str]:
    """The values a template slot `{name}` draws from: the topic's terms, counts, the topic's own pool, then a shared pool; KeyError for an unknown slot."""
    if name == "term":
        return topic.terms
    if name == "count":
        return _COUNTS
    if name in topic.pools:
        return topic.pools[name]
    if name in SHARED_POOLS:
        return SHARED_POOLS[name]
    raise KeyError(f"template slot {{{name}}} has no pool")


def join_paragraphs(sentences: list[str], rng: random.Random) -> str:
    """Some longer documents become 2-3 paragraphs of at least two sentences, as real web text often is."""
    n = len(sentences)
    if n < 6 or rng.random() >= _SPLIT_PROBABILITY:
        return " ".join(sentences)
    if n >= 9 and rng.random() < 0.4:
        first = rng.randint(2, n - 4)
        bounds = [0, first, rng.randint(first + 2, n - 2), n]
    else:
        bounds = [0, rng.randint(2, n - 2), n]
    return "\n\n".join(" ".join(sentences[a:b]) for a, b in zip(bounds, bounds[1:]))
