"""Long-document mode 'window': embed every max_tokens slice of a document, then average.

Usage (the Embedder calls this; shown for reading):
    vectors = embed_windows(model, texts, max_tokens=512, batch_size=32, prefix="")   # (n, d), not normalised

CRISP embeds 1,024-token windows so that the end of a long page counts as much as its start.
Each document is tokenised once, by the fast tokenizer's overflow mode, into consecutive
non-overlapping windows that each carry the model's special tokens (and the prefix, when there is
one); all windows of the call are sorted by length so batches carry little padding. A document's
vector is the mean of its unit window vectors weighted by each window's token count: a mean over
windows in which a 12-token tail does not weigh as much as a full window. A document that fits one
window gets exactly its truncate-mode vector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def embed_windows(model, texts: Sequence[str], max_tokens: int, batch_size: int, prefix: str = "") -> np.ndarray:
    """(len(texts), dim) float32: per text, the token-length-weighted sum of its unit-normalised window embeddings (not
    renormalised here), so long texts are embedded whole."""
    windows, owners = tokenize_windows(model.tokenizer, texts, max_tokens, prefix)
    window_vectors = embed_token_ids(model, windows, batch_size)
    window_vectors /= np.linalg.norm(window_vectors, axis=1, keepdims=True).clip(min=1e-12)
    weights = np.array([len(w) for w in windows], dtype=np.float32)
    pooled = np.zeros((len(texts), window_vectors.shape[1]), dtype=np.float32)
    np.add.at(pooled, owners, window_vectors * weights[:, None])
    return pooled


def tokenize_windows(tokenizer, texts: Sequence[str], max_tokens: int, prefix: str) -> tuple[list[list[int]], np.ndarray]:
    """Token ids of every window (special tokens and prefix included) and the document each belongs to."""
    prefix_ids = tokenizer(prefix, add_special_tokens=False)["input_ids"] if prefix else []
    n_special = len(tokenizer("", add_special_tokens=True)["input_ids"])
    room = max_tokens - len(prefix_ids)
    if room - n_special < 1:
        raise ValueError(f"max_tokens={max_tokens} leaves no room for text after {n_special} special tokens and the prefix")
    encoded = tokenizer(
        list(texts),
        truncation=True,
        max_length=room,
        return_overflowing_tokens=True,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    windows = encoded["input_ids"]
    if prefix_ids:
        lead = leading_special_tokens(tokenizer)
        windows = [w[:lead] + prefix_ids + w[lead:] for w in windows]
    return windows, np.asarray(encoded["overflow_to_sample_mapping"], dtype=np.int64)


def leading_special_tokens(tokenizer) -> int:
    """How many special tokens come before the text ([CLS], <s>): where a per-window prefix goes."""
    with_special = tokenizer("a", add_special_tokens=True)["input_ids"]
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    for start in range(len(with_special) - len(bare) + 1):
        if with_special[start : start + len(bare)] == bare:
            return start
    return 0


def embed_token_ids(model, windows: list[list[int]], batch_size: int) -> np.ndarray:
    """Runs the SentenceTransformer modules on pre-tokenised inputs, longest first, in input order out."""
    import torch

    dim = model.get_embedding_dimension()
    out = np.empty((len(windows), dim), dtype=np.float32)
    order = np.argsort([-len(w) for w in windows], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        features = model.tokenizer.pad({"input_ids": [windows[i] for i in rows]}, return_tensors="pt")
        features = {name: tensor.to(model.device) for name, tensor in features.items()}
        with torch.inference_mode():
            out[rows] = model(features)["sentence_embedding"].float().cpu().numpy()
    return out
