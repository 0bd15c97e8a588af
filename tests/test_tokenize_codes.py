"""Mimi tokenization of the real clips: frame counts, stored weights, lineage, reuse, kill and resume."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pytest
import torch

from salad_core.mimi import MimiConfig
from salad_core.speech_sources import SpeechSourceConfig
from storage import ArtifactStore
from tasks.speech_ingest import ingest_speech
from salad_core.mimi.codes import codes_array
from tasks.tokenize import tokenize_speech
from tasks.tokenize_config import TokenizeConfig
from tests.conftest import REPO

torch.set_num_threads(1)
# every clip, cropped to 3 s so the suite stays fast; transcripts are not needed to tokenize
CLIPS = dict(max_seconds=3.0, allow_empty_text=True)
TOKENIZE = TokenizeConfig(mimi=MimiConfig(weights="random"), calibration_seconds=4.0)


@pytest.fixture(scope="module")
def tokenized(tmp_path_factory, shared_data):
    store = ArtifactStore.open(str(tmp_path_factory.mktemp("tok") / "store"))
    config = SpeechSourceConfig(folder=str(shared_data / "real_speech"), shard_rows=6, **CLIPS)
    utterances = ingest_speech.fn(config, store.objects.config).utterances
    started = time.perf_counter()
    out = tokenize_speech.fn(utterances, TOKENIZE, store.objects.config)
    return store, utterances, out, time.perf_counter() - started


def test_real_clips_give_one_frame_per_80_ms(tokenized):
    store, utterances, out, _ = tokenized
    durations = {r["id"]: r["duration_s"] for r in store.get(utterances).to_table(columns=["id", "duration_s"]).to_pylist()}
    rows = store.get(out.codes).to_table().to_pylist()
    assert len(rows) == 18 == len(durations)  # wav, flac, ogg, mp3 at 16-48 kHz, mono and stereo
    assert [s.rows for s in store.get(out.codes).manifest.shards] == [6, 6, 6]
    for row in rows:
        codes = codes_array(row)
        assert codes.dtype == np.int16 and codes.shape[1] == 8 and row["frame_rate"] == 12.5
        assert abs(codes.shape[0] - math.ceil(durations[row["id"]] * 12.5)) <= 1, row["id"]
        assert codes.min() >= 0 and codes.max() < 2048
    distinct = {tuple(codes_array(r)[:, 0]) for r in rows}
    assert len(distinct) > 1  # fitted codebooks: the codes carry information (untrained ones are all 0)


def test_weights_are_stored_once_and_lineage_has_no_local_paths(tokenized):
    store, utterances, out, _ = tokenized
    manifest = store.get(out.codes).manifest
    assert {p.name for p in manifest.parents} == {"utterances", "mimi_weights"}
    info = json.loads(manifest.models["mimi_info"])
    assert info["random_weights"] is True and info["calibration_seconds"] == pytest.approx(4.0, abs=0.1)
    assert manifest.models["mimi"] == f"mimi:random-fitted@{info['weights_sha256'][:16]}"
    assert "weights_file" not in info and "/" not in manifest.models["mimi_info"].replace("salad", "")
    weights = store.get(out.weights)
    assert weights.num_rows == 1 and json.loads(weights.to_table().column("model_info")[0].as_py()) == info
    again = tokenize_speech.fn(utterances, TOKENIZE, store.objects.config)
    assert again.reused and again.codes == out.codes and again.weights == out.weights
    assert len(store.versions("mimi_weights")) == 1


def test_killed_tokenizer_resumes_and_commits_each_shard_once(tokenized, tmp_path, shared_data):
    store, _, first, _ = tokenized
    # 6 clips of the 18, one per shard: enough shards to kill between commits, few enough to stay fast
    config = SpeechSourceConfig(folder=str(shared_data / "real_speech"), shard_rows=1, limit=6, **CLIPS)
    utterances = ingest_speech.fn(config, store.objects.config).utterances
    resume_config = TokenizeConfig(output_name="codes_resume", weights_artifact=str(first.weights))
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "tokenize_child.py"), store.uri, str(utterances), resume_config.model_dump_json()],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    version_root = store.objects.path("codes_resume")
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if list(store.objects.glob("codes_resume/*/shards/*.json")):
                child.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
    finally:
        output = child.communicate(timeout=30)[0].decode()
    assert child.returncode == -signal.SIGKILL, f"the child was not killed mid-run ({version_root}):\n{output[-2000:]}"
    committed_before = {k.rsplit("/", 1)[1] for k in store.objects.glob("codes_resume/*/shards/*.json")}
    assert 1 <= len(committed_before) < 6 and store.versions("codes_resume") == []

    out = tokenize_speech.fn(utterances, resume_config, store.objects.config)
    shards = store.get(out.codes).manifest.shards
    assert len(shards) == 6 and store.get(out.codes).num_rows == 6
    resumed = {int(name.split(".")[0]) for name in committed_before}
    assert set(out.shards_written) == set(range(6)) - resumed  # committed shards were not redone
    data_files = store.objects.glob(f"codes_resume/{out.codes.fingerprint}/data/*")
    assert len(data_files) == 6  # one file per shard: nothing committed twice, the killed attempt's leftovers removed
    # same weights, same codes whatever the sharding of the input
    by_id = {r["id"]: r["codes"] for r in store.get(first.codes).to_table(columns=["id", "codes"]).to_pylist()}
    assert all(by_id[r["id"]] == r["codes"] for r in store.get(out.codes).to_table(columns=["id", "codes"]).to_pylist())


def test_undecodable_audio_is_quarantined_and_the_rest_tokenized(tokenized):
    from storage import StageSpec
    from tasks.sharded_stage import write_table_artifact

    store, utterances, first, _ = tokenized
    good = store.get(utterances).to_table(columns=["id", "audio"]).slice(0, 2).to_pylist()
    rows = [good[0], {"id": "garbage", "audio": b"RIFF\x00\x00not audio"}, {"id": "missing", "audio": None}, good[1]]
    ref = write_table_artifact(store, StageSpec(name="mixed_audio", code_version="test"), pa.Table.from_pylist(rows))
    config = TokenizeConfig(output_name="mixed_codes", weights_artifact=str(first.weights))
    out = tokenize_speech.fn(ref, config, store.objects.config)
    assert store.get(out.codes).to_table().column("id").to_pylist() == [good[0]["id"], good[1]["id"]]
    refused = store.get(out.quarantine).to_table().to_pylist()
    assert [r["id"] for r in refused] == ["garbage", "missing"]
    assert refused[0]["reason"] == f"cannot decode audio from {ref}:garbage: libsndfile could not read it: Format not recognised."
    assert "the audio column is null" in refused[1]["reason"]
    assert store.get(out.codes).manifest.stats["quarantine"] == f"mixed_codes_quarantine@{out.quarantine.fingerprint}"
    again = tokenize_speech.fn(ref, config, store.objects.config)
    assert again.reused and again.quarantine == out.quarantine


def test_optional_latents_come_from_the_same_pass_as_the_codes(tokenized, tmp_path):
    from salad_core.audio import decode_audio
    from salad_core.mimi import MimiTokenizer
    from salad_core.mimi.codes import latents_array

    store, utterances, first, _ = tokenized
    config = TokenizeConfig(output_name="codes_latents", weights_artifact=str(first.weights), latents="float16")
    out = tokenize_speech.fn(utterances, config, store.objects.config)
    table = store.get(out.codes).to_table()
    assert table.schema.field("latents").type.value_type == pa.float16()
    rows = table.slice(0, 3).to_pylist()
    codes_before = {r["id"]: r["codes"] for r in store.get(first.codes).to_table(columns=["id", "codes"]).to_pylist()}
    assert all(r["codes"] == codes_before[r["id"]] for r in rows)  # asking for latents leaves the codes as they were
    # the stored latents are the tokenizer's unquantized latents, to float16 precision
    weights = tmp_path / "mimi.safetensors"
    weights.write_bytes(store.get(out.weights).to_table(columns=["safetensors"]).column("safetensors")[0].as_py())
    tok = MimiTokenizer.load(MimiConfig(weights_path=str(weights)))
    audio = {r["id"]: r["audio"] for r in store.get(utterances).to_table(columns=["id", "audio"]).to_pylist()}
    for row in rows:
        expected = tok.latents_batch([decode_audio(audio[row["id"]])[0]])[0]
        got = latents_array(row)
        assert got.shape == expected.shape == (row["n_frames"], 512)
        np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3)


def test_keep_tokenizes_only_the_listed_rows_and_records_the_list(tokenized):
    """How the pipeline tokenizes gated synthetic speech: the audio artifact plus the gate's pass list."""
    from storage import StageSpec
    from tasks.sharded_stage import write_table_artifact

    store, utterances, first, _ = tokenized
    ids = store.get(utterances).to_table(columns=["id"]).column("id").to_pylist()
    kept = ids[1::3]
    keep = write_table_artifact(store, StageSpec(name="pass_list", code_version="test"), pa.table({"id": kept}))
    config = TokenizeConfig(output_name="codes_kept", weights_artifact=str(first.weights))
    out = tokenize_speech.fn(utterances, config, store.objects.config, keep=keep)
    codes = store.get(out.codes)
    assert codes.to_table(columns=["id"]).column("id").to_pylist() == kept
    assert len(codes.manifest.shards) == len(store.get(utterances).manifest.shards)  # shard i from input shard i
    assert {p.name for p in codes.manifest.parents} == {"utterances", "pass_list", "mimi_weights"}
    assert store.get(out.quarantine).num_rows == 0
    by_id = {r["id"]: r["codes"] for r in store.get(first.codes).to_table(columns=["id", "codes"]).to_pylist()}
    assert all(by_id[r["id"]] == r["codes"] for r in codes.to_table(columns=["id", "codes"]).to_pylist())
