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
from tests.ctc_models import save_tiny_ctc_model
from tests.tts_texts import TEXT_SCHEMA, short_texts


@pytest.fixture(scope="module")
def tiny_ctc_model(tmp_path_factory):
    return save_tiny_ctc_model(tmp_path_factory.mktemp("tiny-wav2vec2"))


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
    sha = quality.manifest.models["asr_files_sha256"]
    assert len(sha) == 64 and quality.manifest.models["asr"] == f"ctc@{sha[:16]}"
    assert str(tiny_ctc_model) not in json.dumps(quality.manifest.params)
    stats = local_store.get(out.gated).manifest.stats
    assert stats["asr"]["rows"] == 3 and stats["asr"]["mean_cer"] > 0.3 and out.rows_passed == 0


def test_the_same_asr_files_in_two_folders_give_the_same_gate_version(local_store, tiny_ctc_model, tmp_path):
    import shutil

    from tasks.quality_gate import gate_specs

    copy = shutil.copytree(tiny_ctc_model, tmp_path / "elsewhere" / "model")
    schema = speech_schema([])
    ref = write_table_artifact(local_store, StageSpec(name="speech", code_version="test-asr2"), schema.empty_table())
    speech = local_store.get(ref)
    here, there = (gate_specs(speech, QualityGateConfig(asr_model_path=str(p))) for p in (tiny_ctc_model, copy))
    assert {k: v.fingerprint for k, v in here.items()} == {k: v.fingerprint for k, v in there.items()}
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("}", ', "note": 1}', 1))
    changed = gate_specs(speech, QualityGateConfig(asr_model_path=str(copy)))
    assert changed["quality"].fingerprint != here["quality"].fingerprint  # other files, another version


def test_whisper_is_refused_with_a_clear_message(tmp_path):
    from salad_core.tts.asr import LocalCTCRecognizer

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "whisper"}))
    with pytest.raises(ValueError, match="is a Whisper model; the gate supports CTC models"):
        LocalCTCRecognizer(tmp_path)
