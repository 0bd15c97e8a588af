"""Tiny random wav2vec2 CTC models saved as local folders, for tests of the gate's ASR and the aligner.

    folder = save_tiny_ctc_model(tmp_path / "ctc")                      # lower-case vocabulary
    folder = save_tiny_ctc_model(tmp_path / "ctc-upper", upper=True)     # like wav2vec2-base-960h
    folder = save_tiny_ctc_model(tmp_path / "ctc-20ms", conv=REAL_FRAME_RATE)   # 320 samples per frame

The weights are random (seeded): transcripts are garbage and alignments arbitrary but
deterministic, which is enough to test loading, resampling, frame timing and the plumbing.
"""

from __future__ import annotations

import json
from pathlib import Path

Conv = tuple[tuple[int, int], ...]  # (kernel, stride) per conv layer of the feature encoder
FAST_CONV: Conv = ((10, 5), (4, 4))  # 20 samples per frame (1.25 ms at 16 kHz): few layers, many frames
REAL_FRAME_RATE: Conv = ((10, 5), (4, 4), (4, 4), (4, 4))  # 320 samples per frame, 20 ms, like wav2vec2-base


def save_tiny_ctc_model(folder: Path, upper: bool = False, seed: int = 0, conv: Conv = FAST_CONV) -> Path:
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    letters = "abcdefghijklmnopqrstuvwxyz'"
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate(letters.upper() if upper else letters)}}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|", do_lower_case=False)
    features = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True, return_attention_mask=True)
    torch.manual_seed(seed)
    config = Wav2Vec2Config(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=tuple(16 for _ in conv),
        conv_stride=tuple(s for _, s in conv),
        conv_kernel=tuple(k for k, _ in conv),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        pad_token_id=0,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
    )
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    Wav2Vec2Processor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(folder)
    return folder
