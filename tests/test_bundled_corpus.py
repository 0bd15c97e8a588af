"""The bundled corpus must be a usable stand-in for FineWeb-Edu: right schema, reproducible,
streamable, topical enough to cluster, varied enough to learn from, with a little real junk.

Run: .venv/bin/python -m pytest tests/test_bundled_corpus.py -q
"""

import random
import re
import time
from collections import Counter

import pyarrow as pa
import pytest

from salad_core.corpus.bundled import (
    BUNDLED_DUMP,
    BUNDLED_FILE_PATH,
    BUNDLED_TOPICS,
    INVALID_TOPIC,
    MAX_WORDS,
    MIN_WORDS,
    count_tokens,
    fill,
    generate_bundled_corpus,
    iter_bundled_batches,
    topic_of_url,
)
from salad_core.corpus.bundled_topics import (
    BARE_FACT_LEAD,
    CLOSERS,
    CONNECTIVES,
    FACT_LEADS,
    OPENERS,
    TOPICS,
)
from salad_core.corpus.fineweb_schema import FINEWEB_SCHEMA

N_DOCS = 3000


@pytest.fixture(scope="module")
def corpus() -> pa.Table:
    return generate_bundled_corpus(N_DOCS, seed=0)


@pytest.fixture(scope="module")
def rows(corpus) -> list[dict]:
    return corpus.to_pylist()


@pytest.fixture(scope="module")
def good_rows(rows) -> list[dict]:
    return [row for row in rows if topic_of_url(row["url"]) != INVALID_TOPIC]


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.?!:])\s", text, maxsplit=1)[0]


def test_schema_is_exactly_fineweb(corpus):
    assert corpus.schema.equals(FINEWEB_SCHEMA, check_metadata=True)
    assert corpus.num_rows == N_DOCS


def test_same_seed_same_table_other_seed_other_text(corpus):
    assert generate_bundled_corpus(N_DOCS, seed=0).equals(corpus)
    other = generate_bundled_corpus(200, seed=1)
    assert other.column("text").to_pylist() != corpus.slice(0, 200).column("text").to_pylist()
    assert set(other.column("id").to_pylist()).isdisjoint(corpus.column("id").to_pylist())


@pytest.mark.parametrize("batch_size", [1, 257, 1024, 5000])
def test_batches_stream_exactly_the_table_rows(corpus, batch_size):
    n_docs = N_DOCS if batch_size > 1 else 300
    batches = list(iter_bundled_batches(n_docs, seed=0, batch_size=batch_size, bad_fraction=0.01))
    assert all(0 < batch.num_rows <= batch_size for batch in batches)
    assert all(batch.schema.equals(FINEWEB_SCHEMA) for batch in batches)
    streamed = pa.Table.from_batches(batches, schema=FINEWEB_SCHEMA)
    expected = corpus if n_docs == N_DOCS else generate_bundled_corpus(n_docs, seed=0)
    assert streamed.equals(expected)


def test_every_topic_present_and_balanced(good_rows):
    assert len(BUNDLED_TOPICS) >= 12
    counts = Counter(topic_of_url(row["url"]) for row in good_rows)
    assert set(counts) == set(BUNDLED_TOPICS)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_bad_rows_at_the_configured_rate(rows):
    bad = [row for row in rows if topic_of_url(row["url"]) == INVALID_TOPIC]
    assert len(bad) == round(N_DOCS * 0.01)
    texts = [row["text"] for row in bad]
    assert texts.count("") == 10
    assert sum(1 for text in texts if text and not text.strip()) == 10
    assert sum(1 for text in texts if text.strip()) == 10
    assert all(not re.search(r"[A-Za-z]", text) for text in texts)


def test_bad_rows_configurable_and_disabled_by_zero():
    clean = [topic_of_url(u) for u in generate_bundled_corpus(500, 0, 0.0)["url"].to_pylist()]
    assert INVALID_TOPIC not in clean
    heavy = [topic_of_url(u) for u in generate_bundled_corpus(200, 0, 0.1)["url"].to_pylist()]
    assert heavy.count(INVALID_TOPIC) == 20
    tiny = [topic_of_url(u) for u in generate_bundled_corpus(10, 0, 0.01)["url"].to_pylist()]
    assert tiny.count(INVALID_TOPIC) == 1
    with pytest.raises(ValueError):
        generate_bundled_corpus(10, 0, 1.5)


def test_documents_are_in_length_range_and_well_formed(good_rows):
    lengths = [len(row["text"].split()) for row in good_rows]
    assert min(lengths) >= MIN_WORDS and max(lengths) <= MAX_WORDS
    assert max(lengths) - min(lengths) > 100, "lengths should vary"
    for row in good_rows:
        text = row["text"]
        assert "{" not in text and "}" not in text, text
        assert text[0].isupper() and text[-1] in ".?!", text
        assert "  " not in text and text == text.strip()
    multi = sum("\n\n" in row["text"] for row in good_rows) / len(good_rows)
    assert 0.02 < multi < 0.25


def test_documents_vary_within_each_topic(good_rows):
    assert len({row["text"] for row in good_rows}) == len(good_rows)
    by_topic: dict[str, list[str]] = {}
    for row in good_rows:
        by_topic.setdefault(topic_of_url(row["url"]), []).append(first_sentence(row["text"]))
    for topic, firsts in by_topic.items():
        assert len(set(firsts)) / len(firsts) > 0.5, topic


def test_metadata_columns(rows):
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"<urn:uuid:[0-9a-f-]{36}>", i) for i in ids)
    for index, row in enumerate(rows):
        assert row["dump"] == BUNDLED_DUMP and row["file_path"] == BUNDLED_FILE_PATH
        assert row["language"] == "en"
        assert row["url"] == f"https://bundled.salad.invalid/{topic_of_url(row['url'])}/{index}"
        assert 0.9 <= row["language_score"] <= 1.0
        assert 2.5 <= row["score"] <= 5.0
        assert row["int_score"] == min(5, max(0, round(row["score"])))
        assert row["token_count"] == count_tokens(row["text"])
    assert count_tokens("") == 0 and count_tokens("Hello, world.") == 4


def test_topic_of_url_rejects_foreign_urls():
    assert topic_of_url("https://bundled.salad.invalid/geology/12") == "geology"
    for url in ("https://example.com/geology/12", "https://bundled.salad.invalid/geology", "not a url"):
        with pytest.raises(ValueError):
            topic_of_url(url)


def test_every_template_fills_for_every_topic():
    """A template with a slot its topic cannot fill would only fail on the rare row that draws it."""
    rng = random.Random(0)
    shared = OPENERS + CONNECTIVES + CLOSERS
    for topic in TOPICS.values():
        for template in topic.templates + shared + tuple(lead.replace("{fact}", "x") for lead in FACT_LEADS):
            assert "{" not in fill(template, topic, rng)
        assert BARE_FACT_LEAD == "{fact}."
        assert all(not fact.endswith(".") and "{" not in fact for fact in topic.facts)


def test_generation_is_fast():
    start = time.perf_counter()
    generate_bundled_corpus(N_DOCS, seed=7)
    assert time.perf_counter() - start < 5.0  # typically well under 1 s; slack for a shared machine


def test_topics_are_lexically_separable(good_rows):
    """TF-IDF + k-means must recover the url topics; a later stage asks the same of MiniLM at >= 0.8."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [row["text"] for row in good_rows]
    labels = [topic_of_url(row["url"]) for row in good_rows]
    features = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2).fit_transform(texts)
    clusters = KMeans(n_clusters=len(BUNDLED_TOPICS), random_state=0, n_init=4).fit_predict(features)
    majority = sum(Counter(label for label, c in zip(labels, clusters) if c == cluster).most_common(1)[0][1] for cluster in set(clusters))
    purity = majority / len(labels)
    print(f"tf-idf k-means purity: {purity:.3f}")
    assert purity >= 0.9
