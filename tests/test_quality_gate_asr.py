"""The gate's ASR round trip, wired end to end with a tiny random wav2vec2 CTC model saved locally.

A random model transcribes garbage, so every row fails on CER: that is the point, the plumbing
(loading from a folder, 24 → 16 kHz, batching, CER, the manifest's model identity) is what is tested.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from salad_core.tts import TTSConfig
from salad_core.tts.rows import RowSynthesizer, speech_schema
from storage import StageSpec
from tasks.quality_gate import gate_speech
from tasks.quality_gate_config import QualityGateConfig
from tasks.sharded_stage import write_table_artifact
from tests.tts_texts import TEXT_SCHEMA, short_texts


@pytest.fixture(scope="module")
def tiny_ctc_model(tmp_path_factory):
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    folder = tmp_path_factory.mktemp("tiny-wav2vec2")
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate("abcdefghijklmnopqrstuvwxyz'")}}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|")
    features = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True, return_attention_mask=True)
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 4), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, pad_token_id=0, feat_extract_norm="layer", do_stable_layer_norm=True,
    )
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    Wav2Vec2Processor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def test_asr_round_trip_scores_cer_and_records_the_model(local_store, tiny_ctc_model):
    synth = RowSynthesizer(TTSConfig())
    rows = [{k: v for k, v in synth.synthesize_row(r).items() if k != "ok"} for r in short_texts(3, sentences=1)]
    schema = speech_schema([TEXT_SCHEMA.field("cluster")])
    ref = write_table_artifact(local_store, StageSpec(name="speech", code_version="test-asr"), pa.Table.from_pylist(rows, schema=schema))

    out = gate_speech.fn(ref, QualityGateConfig(asr_model_path=str(tiny_ctc_model), asr_batch_size=2), local_store.objects.config)
    quality = local_store.get(out.quality)
    table = quality.to_table().to_pylist()
    assert all(isinstance(r["asr_text"], str) and r["cer"] > 0.3 for r in table)
    assert all(r["reasons"] == [f"high character error rate: {r['cer']:.2f} (maximum 0.30)"] for r in table)
    assert quality.manifest.models["asr"] == str(tiny_ctc_model) and len(quality.manifest.models["asr_files_sha256"]) == 64
    stats = local_store.get(out.gated).manifest.stats
    assert stats["asr"]["rows"] == 3 and stats["asr"]["mean_cer"] > 0.3 and out.rows_passed == 0


def test_whisper_is_refused_with_a_clear_message(tmp_path):
    from salad_core.tts.asr import LocalCTCRecognizer

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "whisper"}))
    with pytest.raises(ValueError, match="is a Whisper model; the gate supports CTC models"):
        LocalCTCRecognizer(tmp_path)
