"""The Kokoro-82M architecture as `kokoro.KModel` expects it in `config.json`.

Usage:
    from salad_core.tts.kokoro_config import KOKORO_82M_CONFIG
    KModel(repo_id="hexgrad/Kokoro-82M", config=KOKORO_82M_CONFIG, model=<weights .pth>)

A real weights folder brings its own `config.json`, which always wins. This copy lets the
test mode (random weights) build exactly the production architecture with no download, and
documents what the numbers are. The vocabulary maps misaki's phoneme symbols to embedding rows;
it must match the weights, so never edit it for a real checkpoint. Symbols are written as
escapes because several are combining marks or look alike.
"""

from __future__ import annotations

import copy

KOKORO_REPO_ID = "hexgrad/Kokoro-82M"
KOKORO_WEIGHTS_FILE = "kokoro-v1_0.pth"

KOKORO_VOCAB: dict[str, int] = {
    ";": 1,
    ":": 2,
    ",": 3,
    ".": 4,
    "!": 5,
    "?": 6,
    "\u2014": 9,
    "\u2026": 10,
    '"': 11,
    "(": 12,
    ")": 13,
    "\u201c": 14,
    "\u201d": 15,
    " ": 16,
    "\u0303": 17,
    "\u02a3": 18,
    "\u02a5": 19,
    "\u02a6": 20,
    "\u02a8": 21,
    "\u1d5d": 22,
    "\uab67": 23,
    "A": 24,
    "I": 25,
    "O": 31,
    "Q": 33,
    "S": 35,
    "T": 36,
    "W": 39,
    "Y": 41,
    "\u1d4a": 42,
    "a": 43,
    "b": 44,
    "c": 45,
    "d": 46,
    "e": 47,
    "f": 48,
    "h": 50,
    "i": 51,
    "j": 52,
    "k": 53,
    "l": 54,
    "m": 55,
    "n": 56,
    "o": 57,
    "p": 58,
    "q": 59,
    "r": 60,
    "s": 61,
    "t": 62,
    "u": 63,
    "v": 64,
    "w": 65,
    "x": 66,
    "y": 67,
    "z": 68,
    "\u0251": 69,
    "\u0250": 70,
    "\u0252": 71,
    "\u00e6": 72,
    "\u03b2": 75,
    "\u0254": 76,
    "\u0255": 77,
    "\u00e7": 78,
    "\u0256": 80,
    "\u00f0": 81,
    "\u02a4": 82,
    "\u0259": 83,
    "\u025a": 85,
    "\u025b": 86,
    "\u025c": 87,
    "\u025f": 90,
    "\u0261": 92,
    "\u0265": 99,
    "\u0268": 101,
    "\u026a": 102,
    "\u029d": 103,
    "\u026f": 110,
    "\u0270": 111,
    "\u014b": 112,
    "\u0273": 113,
    "\u0272": 114,
    "\u0274": 115,
    "\u00f8": 116,
    "\u0278": 118,
    "\u03b8": 119,
    "\u0153": 120,
    "\u0279": 123,
    "\u027e": 125,
    "\u027b": 126,
    "\u0281": 128,
    "\u027d": 129,
    "\u0282": 130,
    "\u0283": 131,
    "\u0288": 132,
    "\u02a7": 133,
    "\u028a": 135,
    "\u028b": 136,
    "\u028c": 138,
    "\u0263": 139,
    "\u0264": 140,
    "\u03c7": 142,
    "\u028e": 143,
    "\u0292": 147,
    "\u0294": 148,
    "\u02c8": 156,
    "\u02cc": 157,
    "\u02d0": 158,
    "\u02b0": 162,
    "\u02b2": 164,
    "\u2193": 169,
    "\u2192": 171,
    "\u2197": 172,
    "\u2198": 173,
    "\u1d7b": 177,
}

KOKORO_82M_CONFIG: dict = {
    "dim_in": 64,
    "dropout": 0.2,
    "hidden_dim": 512,  # also hard-wired inside kokoro's iSTFTNet decoder: do not shrink
    "max_conv_dim": 512,
    "max_dur": 50,  # duration head: up to 50 frames (25 ms each) per phoneme
    "multispeaker": True,
    "n_layer": 3,
    "n_mels": 80,
    "n_token": 178,
    "style_dim": 128,  # a voice pack row is [acoustic style 128 | prosody style 128]
    "text_encoder_kernel_size": 5,
    "istftnet": {
        "upsample_kernel_sizes": [20, 12],
        "upsample_rates": [10, 6],  # with 2x F0 upsampling and hop 5: 600 samples per frame at 24 kHz
        "gen_istft_hop_size": 5,
        "gen_istft_n_fft": 20,
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "resblock_kernel_sizes": [3, 7, 11],
        "upsample_initial_channel": 512,
    },
    "plbert": {
        "hidden_size": 768,
        "num_attention_heads": 12,
        "intermediate_size": 2048,
        "max_position_embeddings": 512,  # 510 phonemes + BOS/EOS per chunk
        "num_hidden_layers": 12,
        "dropout": 0.1,
    },
    "vocab": KOKORO_VOCAB,
}

VOICE_PACK_SHAPE = (510, 1, 256)
"""A voice file: one style vector per phoneme-count (1..510), the row used depends on chunk length."""

SAMPLES_PER_FRAME = 600
"""Audio samples per duration frame at 24 kHz (kokoro's timestamps divide frames by 40)."""


def default_config() -> dict:
    """A private copy, so callers can tweak it without changing the module constant."""
    return copy.deepcopy(KOKORO_82M_CONFIG)
