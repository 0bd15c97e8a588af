"""Where Kokoro's weights come from: a local folder, the HF cache, or seeded random numbers.

Usage:
    files = find_kokoro_files(weights_dir="models/Kokoro-82M", voices=["af_heart"])   # real
    files = find_kokoro_files(repo_id="hexgrad/Kokoro-82M", voices=["af_heart"])     # HF cache
    model = load_kmodel(files)
    model = build_random_kmodel(seed=0)               # test mode: same architecture, noise out
    pack = random_voice_pack(seed=0, voice="af_heart")
    save_kokoro_folder(model, {"af_heart": pack}, "tmp/kokoro")   # the real folder layout

Nothing here downloads: the HF cache is read with `local_files_only=True`, so a missing file
is an immediate, clear error instead of a hang or a silent 330 MB fetch on a worker.

The random-weight test mode exists so the whole pipeline (shapes, rates, timings, lineage) runs
where the weights cannot be fetched. Its duration head is set to a constant: with random
weights every phoneme would last ~25 frames (0.6 s), turning a 1 s sentence into ~100 s of noise.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from kokoro import KModel

from salad_core.seeded_hash import seeded_hash
from salad_core.tts.kokoro_config import (
    KOKORO_REPO_ID,
    KOKORO_WEIGHTS_FILE,
    VOICE_PACK_SHAPE,
    default_config,
)

KMODEL_PARTS = ("bert", "bert_encoder", "predictor", "text_encoder", "decoder")
"""Top-level submodules of KModel; the weights file is a dict of their state dicts."""

TEST_FRAMES_PER_PHONEME = 3
"""Test-mode duration: 3 frames x 25 ms = 75 ms per phoneme, close to natural speech."""


@dataclass(frozen=True)
class KokoroFiles:
    """Resolved paths of one real Kokoro checkpoint and its voices."""

    config: Path | None  # None: the folder has no config.json, the embedded default is used
    weights: Path
    voices: dict[str, Path]
    source: str  # "local:<dir>" or "hf:<repo_id>"
    revision: str | None  # HF snapshot commit when loaded from the cache


class KokoroWeightsNotFound(FileNotFoundError):
    """Real weights were asked for and are not on this machine."""


def _missing(what: str, where: str) -> KokoroWeightsNotFound:
    return KokoroWeightsNotFound(
        f"Kokoro {what} not found in {where}. Provide a folder with config.json, "
        f"{KOKORO_WEIGHTS_FILE} and voices/<voice>.pt (kokoro_weights_dir), pre-fill the "
        f"Hugging Face cache for {KOKORO_REPO_ID}, or choose the test mode explicitly "
        "(random_weights=True: noise, not speech)."
    )


def find_kokoro_files(
    voices: list[str],
    weights_dir: str | Path | None = None,
    repo_id: str = KOKORO_REPO_ID,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
) -> KokoroFiles:
    """Locate config, weights and voice files without any network access."""
    if weights_dir is not None:
        root = Path(weights_dir)
        weights = root / KOKORO_WEIGHTS_FILE
        if not weights.is_file():
            raise _missing(f"weights file {KOKORO_WEIGHTS_FILE}", str(root))
        voice_files = {v: root / "voices" / f"{v}.pt" for v in voices}
        for voice, path in voice_files.items():
            if not path.is_file():
                raise _missing(f"voice {voice!r} (voices/{voice}.pt)", str(root))
        config = root / "config.json"
        return KokoroFiles(config if config.is_file() else None, weights, voice_files, f"local:{root}", None)

    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    def cached(filename: str) -> Path:
        try:
            return Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache_dir, local_files_only=True))
        except LocalEntryNotFoundError:
            raise _missing(filename, f"the Hugging Face cache ({repo_id})") from None

    config = cached("config.json")
    snapshot = re.search(r"snapshots/([0-9a-f]{40})/", config.as_posix())
    return KokoroFiles(
        config=config,
        weights=cached(KOKORO_WEIGHTS_FILE),
        voices={v: cached(f"voices/{v}.pt") for v in voices},
        source=f"hf:{repo_id}",
        revision=snapshot.group(1) if snapshot else revision,
    )


def load_kmodel(files: KokoroFiles) -> KModel:
    """Kokoro model in eval mode from local files only; uses the built-in default config when `files.config` is None."""
    config = json.loads(files.config.read_text(encoding="utf-8")) if files.config else default_config()
    return KModel(repo_id=KOKORO_REPO_ID, config=config, model=str(files.weights)).eval()


def load_voice_pack(path: Path) -> torch.Tensor:
    """A voice pack as float32 on CPU, loaded with weights_only; ValueError unless its shape is VOICE_PACK_SHAPE."""
    pack = torch.load(path, map_location="cpu", weights_only=True)
    if tuple(pack.shape) != VOICE_PACK_SHAPE:
        raise ValueError(f"voice file {path} has shape {tuple(pack.shape)}, expected {VOICE_PACK_SHAPE}")
    return pack.float()


def build_random_kmodel(seed: int, frames_per_phoneme: int = TEST_FRAMES_PER_PHONEME) -> KModel:
    """The Kokoro-82M architecture with seeded random weights and a fixed duration per phoneme.

    KModel always loads a weights file; an empty state dict leaves PyTorch's initialisation,
    which is made reproducible by seeding a private copy of the global RNG.
    """
    config = default_config()
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.pth"
        torch.save({}, empty)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = KModel(repo_id=KOKORO_REPO_ID, config=config, model=str(empty))
    # duration = sum over max_dur sigmoids; make each one equal frames/max_dur for every input
    head = model.predictor.duration_proj.linear_layer
    share = frames_per_phoneme / config["max_dur"]
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(math.log(share / (1.0 - share)))
    return model.eval()


def random_voice_pack(seed: int, voice: str) -> torch.Tensor:
    """A reproducible stand-in voice [510, 1, 256], different per (seed, voice name)."""
    generator = torch.Generator().manual_seed(seeded_hash(voice, seed, "voice-pack") >> 1)  # manual_seed takes < 2**63
    return 0.3 * torch.randn(VOICE_PACK_SHAPE, generator=generator)


def save_kokoro_folder(model: KModel, voice_packs: dict[str, torch.Tensor], folder: str | Path) -> Path:
    """Write a model in the real checkpoint layout (config.json, kokoro-v1_0.pth, voices/*.pt)."""
    root = Path(folder)
    (root / "voices").mkdir(parents=True, exist_ok=True)
    config = default_config()
    config["vocab"] = model.vocab
    (root / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    torch.save({part: getattr(model, part).state_dict() for part in KMODEL_PARTS}, root / KOKORO_WEIGHTS_FILE)
    for name, pack in voice_packs.items():
        torch.save(pack, root / "voices" / f"{name}.pt")
    return root


def sha256_file(path: Path, chunk_bytes: int = 1 << 22) -> str:
    """Hex SHA-256 of a file, read in chunks so large weight files never sit whole in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()
