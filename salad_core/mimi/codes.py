"""The `codes` record: Mimi codes (and optionally latents) of one utterance, as stored.

    CODES_SCHEMA                       # id, codes (int16, flat, frame-major), n_frames, n_codebooks, frame_rate, duration_s
    codes_array(row)                   # (n_frames, n_codebooks) int16, checked
    codes_array(row, num_codebooks=8, source="stage1_speech_codes@ab12")   # + the model's codebook count
    latents_array(row)                 # (n_frames, 512) float32 when the artifact has latents

One place for the layout, so tokenization writes and training, scoring and evaluation read the
same thing (lhotse's typed manifests are the model); no Prefect, no store.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

CODES_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("codes", pa.list_(pa.int16())),
        ("n_frames", pa.int32()),
        ("n_codebooks", pa.int16()),
        ("frame_rate", pa.float32()),
        ("duration_s", pa.float64()),
    ]
)
LATENT_TYPES = {"float16": pa.float16(), "float32": pa.float32()}


class CodesMismatch(ValueError):
    """A codes row does not fit the model reading it (codebook count) or is malformed; the message names it."""


def codes_schema(latents: str = "none") -> pa.Schema:
    """The schema with a `latents` column of the given type ('float16', 'float32'), or without ('none')."""
    if latents == "none":
        return CODES_SCHEMA
    return CODES_SCHEMA.append(pa.field("latents", pa.list_(LATENT_TYPES[latents])))


def codes_array(row: dict, num_codebooks: int | None = None, source: str = "codes") -> np.ndarray:
    """(n_frames, n_codebooks) int16 codes of a row; with `num_codebooks`, checked against the model's."""
    n_frames, n_q = int(row["n_frames"]), int(row["n_codebooks"])
    if num_codebooks is not None and n_q != num_codebooks:
        raise CodesMismatch(
            f"{source}: row {row['id']!r} has {n_q} codebooks, the model reads {num_codebooks} "
            "(tokenize with tokenize.mimi.num_codebooks equal to the model's num_codebooks)"
        )
    codes = np.asarray(row["codes"], dtype=np.int16)
    if codes.size != n_frames * n_q:
        raise CodesMismatch(f"{source}: row {row['id']!r} holds {codes.size} codes, not {n_frames} frames x {n_q} codebooks")
    return codes.reshape(n_frames, n_q)


def latents_array(row: dict) -> np.ndarray:
    """A `codes` row's stored latents back to (n_frames, 512) float32."""
    return np.asarray(row["latents"], dtype=np.float32).reshape(int(row["n_frames"]), -1)
