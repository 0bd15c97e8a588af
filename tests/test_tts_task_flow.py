"""The TTS flow under Prefect: bundled corpus → espeak-ng on a Ray pool the task starts itself → quality gate."""

from __future__ import annotations

import io

import soundfile as sf
from typer.testing import CliRunner

from deployments.cli import app
from flows.tts_flow import tts_flow
from salad_core.corpus.ingest_config import IngestConfig
from storage import ArtifactStore, StoreConfig
from tasks.ray_pool import RayPoolConfig
from tasks.tts_config import SynthesisConfig


def test_flow_speaks_gates_and_the_cli_shows_it(prefect_harness, tmp_path):
    import ray

    store_config = StoreConfig(uri=str(tmp_path / "store"))
    synthesis = SynthesisConfig(limit=20, sample_seed=0, shard_rows=8, ray=RayPoolConfig(local_num_cpus=2, n_actors=2))
    out = tts_flow(ingest=IngestConfig(bundled_docs=60), tts=synthesis, store=store_config)
    assert not ray.is_initialized()  # the task started Ray, so it stopped it

    store = ArtifactStore.open(store_config)
    speech = store.get(out.synthesis.speech)
    assert speech.num_rows == 20 and [s.rows for s in speech.manifest.shards] == [8, 8, 4]
    assert speech.manifest.parents[0] == out.ingest.corpus.model_copy(update={"uri": ""})
    assert "flow_run_id" in speech.manifest.run_context
    corpus_ids = set(store.get(out.ingest.corpus).to_table(columns=["id"]).column("id").to_pylist())
    for row in speech.to_table().to_pylist():
        audio, sr = sf.read(io.BytesIO(row["audio"]), dtype="float32")
        assert sr == 24_000 and row["id"] in corpus_ids
        assert abs(len(audio) / sr - row["duration_s"]) < 1e-3
        assert 0.2 < row["duration_s"] / len(row["text"].split()) < 0.6

    assert out.gate.rows_passed == 20 and store.get(out.gate.gated).num_rows == 20
    assert store.get(out.gate.gated).manifest.stats["asr"].startswith("not run")

    runner = CliRunner()
    shown = runner.invoke(app, ["artifacts", "show", "synthetic_speech", "--store", store_config.uri])
    assert shown.exit_code == 0, shown.output
    compact = "".join(shown.output.split())  # rich wraps long lines at the terminal width
    assert out.synthesis.speech.fingerprint in compact and "audio:binary" in compact
    assert "word_timings:list<element:struct<word:string,start:double,end:double>>" in compact
    listed = runner.invoke(app, ["artifacts", "list", "--store", store_config.uri])
    assert all(
        name in listed.output for name in ("synthetic_speech", "synthetic_speech_quarantine", "synthetic_speech_gated", "synthetic_speech_gate_quarantine")
    )
