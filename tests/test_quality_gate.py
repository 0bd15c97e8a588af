"""Quality gate: per-row verdicts on synthetic and real (espeak) audio, and the gate task over an artifact."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from salad_core.tts import SAMPLE_RATE, TTSConfig, make_backend
from salad_core.tts.flac import encode_flac
from salad_core.tts.quality import (
    QualityThresholds,
    character_error_rate,
    count_words,
    edit_distance,
    judge_audio,
)
from salad_core.tts.rows import RowSynthesizer, speech_schema
from storage import StageSpec
from tasks.quality_gate import ASR_NOT_RUN, gate_speech
from tasks.quality_gate_config import QualityGateConfig
from tasks.sharded_stage import write_sharded_artifact
from tests.tts_texts import TEXT_SCHEMA, short_texts

gate = gate_speech.fn
TEXT = "The quick brown fox jumps over the lazy dog near the river bank today."  # 14 words
LIMITS = QualityThresholds()


def seconds(s: float) -> int:
    return int(s * SAMPLE_RATE)


def sine(duration_s: float, amplitude: float) -> np.ndarray:
    t = np.arange(seconds(duration_s)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.fixture(scope="module")
def espeak_clip() -> np.ndarray:
    backend = make_backend(TTSConfig())
    return backend.synthesize(TEXT, backend.voices()[0]).audio


def test_good_espeak_speech_passes(espeak_clip):
    verdict = judge_audio(espeak_clip, SAMPLE_RATE, TEXT, LIMITS)
    assert verdict.passed, verdict.reasons
    assert 0.25 < verdict.metrics["seconds_per_word"] < 0.45 and verdict.metrics["silence_ratio"] < 0.3
    assert verdict.metrics["clipping_ratio"] == 0 and verdict.metrics["cer"] is None


@pytest.mark.parametrize(
    "audio, expected",
    [
        pytest.param(np.zeros(seconds(5)), ["mostly silence: 100% of frames below -40 dBFS (maximum 50%)"], id="silence"),
        pytest.param(np.clip(sine(5, 3.0), -1, 1), ["clipped: 78.50% of samples at |x| >= 0.999 (maximum 0.10%)"], id="clipped-sine"),
        pytest.param(np.where(np.arange(seconds(5)) % 7 == 0, np.nan, sine(5, 0.3)), ["non-finite samples (NaN or inf): 17143 of 120000"], id="nan"),
        pytest.param(
            np.full(seconds(5), np.inf, dtype=np.float32),
            ["non-finite samples (NaN or inf): 120000 of 120000", "mostly silence: 100% of frames below -40 dBFS (maximum 50%)"],
            id="inf",
        ),
        pytest.param(sine(0.7, 0.3), ["too short for the text: 0.050 s per word (minimum 0.15)"], id="truncated"),
        pytest.param(sine(30, 0.3), ["too long for the text: 2.143 s per word (maximum 1.0)"], id="runaway"),
        pytest.param(np.zeros(0), ["empty audio (no samples)", "too short for the text: 0.000 s per word (minimum 0.15)"], id="empty"),
    ],
)
def test_broken_audio_gets_the_right_reasons(audio, expected):
    verdict = judge_audio(np.asarray(audio, dtype=np.float32), SAMPLE_RATE, TEXT, LIMITS)
    assert not verdict.passed and verdict.reasons == expected


def test_cer_check_runs_only_with_a_transcript(espeak_clip):
    assert judge_audio(espeak_clip, SAMPLE_RATE, TEXT, LIMITS, cer=0.05).passed
    verdict = judge_audio(espeak_clip, SAMPLE_RATE, TEXT, LIMITS, cer=0.6)
    assert verdict.reasons == ["high character error rate: 0.60 (maximum 0.30)"] and verdict.metrics["cer"] == 0.6


def test_character_error_rate():
    assert character_error_rate("Hello, World!", "hello world") == 0.0  # case and punctuation are not errors
    assert edit_distance("kitten", "sitting") == 3
    assert character_error_rate("abcd", "abxd") == 0.25
    assert character_error_rate("some text", "") == 1.0
    assert count_words("Well -- it is 42 degrees.") == 5


# -- the task ---------------------------------------------------------------------------------
def speech_rows() -> list[dict]:
    """Real espeak rows in two clusters, plus broken audio in cluster 'noisy'."""
    synth = RowSynthesizer(TTSConfig())
    rows = [{k: v for k, v in synth.synthesize_row(r).items() if k != "ok"} for r in short_texts(6, sentences=1)]
    for r in rows[:3]:
        r["cluster"] = "clean"
    for r in rows[3:]:
        r["cluster"] = "mixed"
    noisy = rows[0]
    broken = [
        dict(noisy, id="silent", cluster="noisy", audio=encode_flac(np.zeros(seconds(4)), SAMPLE_RATE), duration_s=4.0),
        dict(noisy, id="clipped", cluster="noisy", audio=encode_flac(np.clip(sine(4, 3), -1, 1), SAMPLE_RATE), duration_s=4.0),
        dict(noisy, id="corrupt", cluster="noisy", audio=b"fLaC not really", duration_s=4.0),
        dict(rows[3], id="mixed-silent", audio=encode_flac(np.zeros(seconds(4)), SAMPLE_RATE), duration_s=4.0),
    ]
    return rows + broken


def write_speech(local_store, rows: list[dict]):
    schema = speech_schema([TEXT_SCHEMA.field("cluster")])
    shards = [rows[:5], rows[5:]]
    spec = StageSpec(name="speech", params={"test": "gate"}, code_version="test-speech-1")
    ref, _ = write_sharded_artifact(local_store, spec, lambda c: enumerate(pa.Table.from_pylist(s, schema=schema) for s in shards), schema=schema)
    return ref


def test_gate_task_splits_rows_and_reports_per_cluster(local_store):
    rows = speech_rows()
    ref = write_speech(local_store, rows)
    out = gate(ref, QualityGateConfig(max_cluster_failure_rate=0.5), local_store.objects.config)

    gated = local_store.get(out.gated)
    # clean and mixed pass except mixed-silent; noisy fails 3/3 > 50%, but nothing good was in it anyway
    assert gated.to_table().column("id").to_pylist() == [r["id"] for r in rows[:6]]
    schema = local_store.get(ref).to_table().schema
    assert gated.to_table().schema == schema.remove(schema.get_field_index("audio"))  # the audio is stored once, in `speech`
    assert [s.rows for s in gated.manifest.shards] == [5, 1]  # shard i from input shard i

    reasons = {r["id"]: r["reason"] for r in local_store.get(out.quarantine).to_table().to_pylist()}
    assert reasons["silent"].startswith("mostly silence: 100% of frames") and "cluster noisy dropped" in reasons["silent"]
    assert reasons["clipped"].startswith("clipped: ")
    assert reasons["corrupt"].startswith("undecodable audio: ")
    assert reasons["mixed-silent"].startswith("mostly silence") and "dropped" not in reasons["mixed-silent"]
    assert set(reasons) == {"silent", "clipped", "corrupt", "mixed-silent"}

    clusters = {r["cluster"]: r for r in local_store.get(out.clusters).to_table().to_pylist()}
    assert clusters["clean"]["failure_rate"] == 0 and clusters["mixed"]["failure_rate"] == 0.25
    assert clusters["noisy"]["failed"] == 3 and clusters["noisy"]["dropped"] and not clusters["mixed"]["dropped"]

    stats = gated.manifest.stats
    assert stats["asr"] == ASR_NOT_RUN and stats["rows_in"] == 10 and stats["rows_passed"] == 6
    assert stats["cluster_failure_rates"] == {"clean": 0.0, "mixed": 0.25, "noisy": 1.0} and stats["dropped_clusters"] == ["noisy"]
    assert stats["failure_reasons"] == {"mostly silence": 2, "clipped": 1, "undecodable audio": 1}
    assert out.rows_passed == 6 and out.rows_failed == 4

    quality = local_store.get(out.quality).to_table()
    assert quality.num_rows == 10 and quality.column("cer").null_count == 10

    again = gate(ref, QualityGateConfig(max_cluster_failure_rate=0.5), local_store.objects.config)
    assert again.reused and again.gated == out.gated and again.rows_passed == 6
    stricter = gate(ref, QualityGateConfig(max_cluster_failure_rate=0.2), local_store.objects.config)
    assert stricter.quality == out.quality  # the verdicts are reused...
    assert stricter.rows_passed == 3  # ...and 'mixed' (25% failing) is now dropped too
