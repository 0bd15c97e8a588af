"""Finding, building, freezing, hashing and saving Mimi weights.

Usage:
    path = find_real_weights(config)                  # explicit file, else the HF cache, else None
    model = build_mimi(path, seed=0, num_codebooks=8) # path None: seeded random weights
    save_weights(model, "mimi.safetensors", {"random_weights": "true", ...})
    read_weights_metadata("mimi.safetensors")         # the metadata dict ({} for the real checkpoint)
    weights_sha256(model)                              # identity of the weights, for lineage

Saved files are Mimi state dicts in safetensors, the format of Kyutai's checkpoint. Random
weights are saved as a delta: only the fitted codebooks (67 of 385 MB; the rest is the seeded
initialisation, rebuilt from the seed on load and checked against the SHA-256 of the full
weights recorded at save time, so a torch or moshi whose seeded init differs fails loudly
instead of giving other codes). Our own facts (random or not, seed, codebook fit, full hash)
travel in the safetensors header metadata.

Only safetensors is ever loaded: moshi hands any other file to `torch.load`, which unpickles it,
and a pickle from a user-given path can run code (torch's `weights_only` default is the only
guard, and `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1` turns it off). `check_safetensors` refuses
anything else, by name and by content, before moshi sees the path.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from huggingface_hub import try_to_load_from_cache
from moshi.models.compression import MimiModel
from moshi.models.loaders import get_mimi
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from salad_core.mimi.config import MimiConfig


class UnsafeWeightsError(ValueError):
    """A weights file that is not safetensors (a pickle could run code when loaded); names the file."""


def check_safetensors(path: str | os.PathLike, role: str = "Mimi weights_path") -> Path:
    """``path`` if it is a readable ``.safetensors`` file; a clear error naming it otherwise."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise UnsafeWeightsError(
            f"{role} {path}: only .safetensors files are loaded (a {path.suffix or 'suffix-less'} file would be "
            "unpickled by torch.load, which can run code); convert it with safetensors.torch.save_file"
        )
    if not path.is_file():
        raise FileNotFoundError(f"{role} {path} does not exist")
    try:
        with safe_open(str(path), framework="pt"):
            pass
    except (SafetensorError, OSError, ValueError) as exc:
        raise UnsafeWeightsError(f"{role} {path}: not a valid safetensors file ({exc})") from exc
    return path


def find_real_weights(config: MimiConfig) -> Path | None:
    """The checkpoint to load: ``config.weights_path`` if set, else the HF cache entry; never downloads."""
    if config.weights_path is not None:
        return check_safetensors(config.weights_path)
    cached = try_to_load_from_cache(config.hf_repo, config.hf_filename, cache_dir=config.hf_cache_dir)
    if isinstance(cached, (str, os.PathLike)) and Path(cached).is_file():
        return check_safetensors(cached, role=f"Mimi checkpoint {config.hf_repo}/{config.hf_filename} in the HF cache")
    return None


def build_mimi(weights_path: Path | None, seed: int, num_codebooks: int, device: str = "cpu") -> MimiModel:
    """Mimi with the given weights (or seeded random ones), frozen.

    The random initialisation runs on a forked RNG so building a tokenizer never disturbs the
    caller's random stream (and the caller's stream never changes our weights).
    """
    if weights_path is not None:
        check_safetensors(weights_path)  # moshi would torch.load (unpickle) anything else
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = get_mimi(str(weights_path) if weights_path else None, device="cpu", num_codebooks=num_codebooks)
    return freeze(model).to(device)


def freeze(model: torch.nn.Module) -> torch.nn.Module:
    """Put the model in eval mode with no gradients, in place, and return it."""
    model.eval()
    model.requires_grad_(False)
    return model


CODEBOOK_MARKER = "._codebook."  # the tensors fit_codebooks changes (all 32 levels, used or not)


def save_weights(model: torch.nn.Module, path: str | os.PathLike, metadata: dict[str, str], only_codebooks: bool = False) -> None:
    """Write the state dict (or only its codebook tensors) as safetensors, with string metadata in its header."""
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items() if not only_codebooks or CODEBOOK_MARKER in name}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path), metadata=metadata)


def load_codebooks(model: torch.nn.Module, path: str | os.PathLike, expected_sha256: str) -> None:
    """Put a codebooks-only file's tensors into a freshly seeded model and check the result's hash."""
    from safetensors.torch import load_file

    saved = load_file(str(check_safetensors(path)))
    state = model.state_dict()
    foreign = sorted(set(saved) - {k for k in state if CODEBOOK_MARKER in k})
    missing = sorted({k for k in state if CODEBOOK_MARKER in k} - set(saved))
    if foreign or missing:
        raise ValueError(f"{path} is not a Mimi codebooks file: unexpected {foreign[:3]}, missing {missing[:3]}")
    device = next(model.parameters()).device
    model.load_state_dict({**state, **{k: v.to(device) for k, v in saved.items()}})
    actual = weights_sha256(model)
    if actual != expected_sha256:
        raise ValueError(
            f"{path}: the seeded random Mimi rebuilt here differs from the one the codebooks were fitted on "
            f"(weights SHA-256 {actual[:16]} vs {expected_sha256[:16]} at save time): this torch/moshi initialises "
            "differently; fit the codebooks again (delete the mimi_weights version or change tokenize.mimi.seed)"
        )


def read_weights_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata stored in a safetensors file header ({} when none), read without loading the tensors."""
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def weights_sha256(model: torch.nn.Module) -> str:
    """Hash of names, dtypes, shapes and values: equal for a model and its saved-then-loaded copy."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().data)
    return digest.hexdigest()
