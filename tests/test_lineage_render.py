"""Lineage renderings: a diamond prints each version once; the diagram is a PNG naming every version."""

from __future__ import annotations

import io

import pyarrow as pa
import pytest
from PIL import Image

from storage import ArtifactRef, ArtifactStore, StageSpec
from storage.report import lineage_mermaid, lineage_png, lineage_text, manifest_markdown


def commit(store: ArtifactStore, name: str, parents: list[ArtifactRef] = ()) -> ArtifactRef:
    writer = store.writer(StageSpec(name=name, params={"seed": 0}, code_version="v1", parents=list(parents)))
    writer.write_shard(0, pa.table({"x": [1, 2]}))
    return store.commit(writer, 1)


@pytest.fixture
def diamond(tmp_path):
    """corpus → (embeddings, tokenizer) → teacher, and teacher + corpus → eval: corpus is reached 3 ways."""
    store = ArtifactStore.open(str(tmp_path / "store"))
    corpus = commit(store, "corpus")
    embeddings = commit(store, "embeddings", [corpus])
    tokenizer = commit(store, "tokenizer", [corpus])
    teacher = commit(store, "teacher", [embeddings, tokenizer])
    final = commit(store, "eval", [teacher, corpus])
    return store, final, corpus


def test_diamond_tree_prints_each_version_once(diamond):
    store, final, corpus = diamond
    lines = lineage_text(store.upstream(final)).splitlines()
    full = [line for line in lines if "see above" not in line]
    assert sorted(line.split("└─ ")[-1].split("@")[0] for line in full) == ["corpus", "embeddings", "eval", "teacher", "tokenizer"]
    again = [line for line in lines if "see above" in line]
    assert len(again) == 2 and all(f"corpus@{corpus.fingerprint} → see above" in line for line in again)
    assert lines[0] == str(final)


def test_mermaid_has_one_node_per_version_and_each_edge_once(diamond):
    store, final, _ = diamond
    text = lineage_mermaid([store.upstream(final), store.upstream(final)])
    assert text.count("-->") == 6  # corpus→embeddings, corpus→tokenizer, emb→teacher, tok→teacher, teacher→eval, corpus→eval
    assert sum('["' in line for line in text.splitlines()) == 5


def test_lineage_png_is_a_png_naming_every_version(diamond):
    store, final, _ = diamond
    png = lineage_png([store.upstream(final)])
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > 200 and image.height > 200
    named = image.text["Description"].split("; ")
    assert sorted(n.split("@")[0] for n in named) == ["corpus", "embeddings", "eval", "teacher", "tokenizer"]
    pixels = image.convert("L").getextrema()
    assert pixels[0] < 100 < pixels[1]  # something is drawn on the background


def test_stage_summary_shows_parameters_and_headline_numbers(diamond):
    store, final, _ = diamond
    m = store.get(final).manifest
    text = manifest_markdown(m, "file:///x", store.upstream(final), stage_seconds=12.5, quarantined=3)
    assert "**Parameters**\n\n- `seed`: `0`\n" in text
    assert "| rows | 2 in 1 shard(s)" in text and "| quarantined | 3 |" in text
    assert "| wall time (task start → commit) | 12.5 s (0.16 rows/s) |" in text
    assert text.count("corpus@") == 3  # upstream tree: once in full, twice as → see above
