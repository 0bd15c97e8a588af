"""Synthesis on a real Ray actor pool with real espeak-ng: rows, quarantine, reuse, kill-and-resume.

One local Ray instance (2 logical CPUs) serves the whole module; the task sees it running and
neither starts nor stops Ray. The resume test's child process joins it by address.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import pyarrow as pa
import pytest
import soundfile as sf

from salad_core.tts import SAMPLE_RATE, TTSConfig
from salad_core.tts.rows import RowSynthesizer
from salad_core.tts.voices import DEFAULT_ESPEAK_VOICES
from storage import ArtifactStore
from tasks.ray_pool import RayPoolConfig
from tasks.tts import synthesis_spec, synthesize_speech
from tasks.tts_config import SynthesisConfig
from tests.conftest import REPO
from tests.tts_texts import short_texts, text_artifact

synthesize = synthesize_speech.fn  # the task body, without an orchestrator
POOL = RayPoolConfig(n_actors=2, num_cpus_per_actor=0.5, rows_per_call=2)


@pytest.fixture(scope="module")
def ray_address():
    import logging

    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture
def module_actors():
    """Registers Ray actors of classes defined in this module, pickled by value (workers need not
    import this test module), and kills them afterwards: ``actors = module_actors([...])``. The
    list handed back is the one killed at the end, so actors a stream replaces in it are too."""
    import ray
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    registered: list = []

    def register(actors: list) -> list:
        registered.append(actors)
        return actors

    yield register
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    for actors in registered:
        for actor in actors:
            ray.kill(actor)


def read_speech(store: ArtifactStore, ref) -> list[dict]:
    return store.get(ref).to_table().to_pylist()


def test_speech_rows_in_input_order_and_bad_texts_quarantined(ray_address, local_store, monkeypatch):
    good = short_texts(8)
    bad = [
        {"id": "bad-empty", "text": "", "cluster": "bad"},
        {"id": "bad-punct", "text": "!!! ... ??? -- ;;", "cluster": "bad"},
        {"id": "bad-huge", "text": "word " * 10_000, "cluster": "bad"},  # 50,000 characters
        {"id": "bad-script", "text": "这是一个中文句子，不是英文，英语的声音读不出来。", "cluster": "bad"},
        {"id": "bad-null", "text": None, "cluster": "bad"},
    ]
    rows = good[:3] + bad[:2] + good[3:6] + bad[2:] + good[6:]
    ref = text_artifact(local_store, rows)
    # shard_by_cluster=False: rows keep the input order across clusters (the grouped order is tested below)
    out = synthesize(ref, SynthesisConfig(shard_rows=5, shard_by_cluster=False, ray=POOL), local_store.objects.config)

    speech = read_speech(local_store, out.speech)
    assert [r["id"] for r in speech] == [r["id"] for r in good]  # input order, bad rows left out
    for row, source in zip(speech, good):
        audio, sr = sf.read(io.BytesIO(row["audio"]), dtype="float32")
        assert sr == row["sample_rate"] == SAMPLE_RATE
        assert len(audio) / sr == pytest.approx(row["duration_s"], abs=1e-3)
        words = source["text"].split()
        assert 0.15 < row["duration_s"] / len(words) < 0.8  # espeak at 175 wpm: ~0.34 s per word
        assert [w["word"] for w in row["word_timings"]] == words
        starts = [w["start"] for w in row["word_timings"]]
        assert starts == sorted(starts) and row["word_timings"][-1]["end"] <= row["duration_s"] + 1e-6
        assert row["voice"] in DEFAULT_ESPEAK_VOICES and row["cluster"] == source["cluster"] and row["text"] == source["text"]

    quarantine = {r["id"]: r for r in read_speech(local_store, out.quarantine)}
    assert quarantine["bad-empty"]["reason"] == "empty text"
    assert quarantine["bad-punct"]["reason"] == "no letters: only punctuation, digits or symbols"
    assert quarantine["bad-huge"]["reason"] == "too long: 50000 characters, the limit is 5000"
    assert quarantine["bad-huge"]["excerpt"].endswith("… [50000 characters]") and len(quarantine["bad-huge"]["excerpt"]) < 250
    assert {r["stage"] for r in quarantine.values()} == {"synthetic_speech"}
    assert quarantine["bad-script"]["reason"].startswith("script not speakable by this voice")
    assert quarantine["bad-null"]["reason"] == "not a string (got NoneType)"
    assert set(quarantine) == {r["id"] for r in bad}

    manifest = local_store.get(out.speech).manifest
    assert manifest.models["tts"].startswith("espeak:espeak-ng@") and len(manifest.models["tts_info_sha256"]) == 16
    assert manifest.parents[0].fingerprint == ref.fingerprint
    assert manifest.stats["rows_selected"] == 13 and manifest.stats["rows_quarantined_this_run"] == 5
    assert [s.rows for s in manifest.shards] == [3, 3, 2]  # shards of 5 input rows, bad ones removed
    assert "ray" not in manifest.params  # execution settings never change the version

    # same content, another pool shape: the committed version is reused, nothing synthesised, no Ray
    def no_ray(*_):
        raise AssertionError("a reused version must not need Ray")

    monkeypatch.setattr("tasks.tts.ray_session", no_ray)
    again = synthesize(ref, SynthesisConfig(shard_rows=5, shard_by_cluster=False, ray=POOL.model_copy(update={"n_actors": 1})), local_store.objects.config)
    assert again.reused and again.speech == out.speech and again.quarantine == out.quarantine


def test_limit_and_seeded_sample_pick_the_same_rows_every_time(ray_address, local_store):
    rows = short_texts(12, sentences=1)
    ref = text_artifact(local_store, rows)
    first = synthesize(ref, SynthesisConfig(limit=3, shard_by_cluster=False, ray=POOL), local_store.objects.config)
    assert [r["id"] for r in read_speech(local_store, first.speech)] == [r["id"] for r in rows[:3]]
    sampled = synthesize(ref, SynthesisConfig(limit=4, sample_seed=7, shard_by_cluster=False, ray=POOL), local_store.objects.config)
    ids = [r["id"] for r in read_speech(local_store, sampled.speech)]
    positions = [next(i for i, r in enumerate(rows) if r["id"] == x) for x in ids]
    assert len(ids) == 4 and positions == sorted(positions) and positions != [0, 1, 2, 3]


def test_empty_input_makes_an_empty_committed_version(ray_address, local_store):
    out = synthesize(text_artifact(local_store, []), SynthesisConfig(ray=POOL), local_store.objects.config)
    speech, quarantine = local_store.get(out.speech), local_store.get(out.quarantine)
    assert speech.num_rows == quarantine.num_rows == 0 and len(speech.manifest.shards) == 1
    assert speech.to_table().schema.names[:7] == ["id", "text", "voice", "sample_rate", "audio", "duration_s", "word_timings"]


def test_killed_run_resumes_with_only_the_missing_shards(ray_address, tmp_path):
    rows = short_texts(40)
    config = SynthesisConfig(
        shard_rows=4,
        shard_by_cluster=False,
        ray=RayPoolConfig(address=ray_address, n_actors=1, num_cpus_per_actor=0.5, rows_per_call=1, max_in_flight_per_actor=1),
    )
    store = ArtifactStore.open(str(tmp_path / "killed"))
    ref = text_artifact(store, rows)
    speech_spec = synthesis_spec(ref, config, RowSynthesizer(TTSConfig()).model_info(), ["cluster"])
    writer = store.writer(speech_spec)

    child = subprocess.Popen(
        [sys.executable, "tests/tts_child.py", store.uri, str(ref), config.model_dump_json()],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while not writer.committed_shards() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    log = child.communicate(timeout=30)[0].decode(errors="replace")
    assert child.returncode == -signal.SIGKILL, f"the child ended by itself before it could be killed:\n{log[-3000:]}"
    assert store.find(speech_spec) is None  # killed before the commit
    committed = writer.committed_shards()
    assert 1 <= len(committed) < 10
    files_before = {i: store.objects.read_json(f"{speech_spec.name}/{speech_spec.fingerprint}/shards/{i:06d}.json")["file"] for i in committed}

    # rerun (here, in-process, on the same Ray): only the missing shards are synthesised
    resumed = synthesize(ref, config, store.objects.config)
    assert resumed.shards_resumed == sorted(committed)
    assert resumed.shards_written == sorted(set(range(10)) - committed)
    manifest = store.get(resumed.speech).manifest
    assert {s.shard: s.file for s in manifest.shards if s.shard in committed} == files_before
    assert manifest.stats["shards_resumed"] == len(committed)

    # an uninterrupted run into another store: the very same rows and bytes, nothing twice
    fresh_store = ArtifactStore.open(str(tmp_path / "fresh"))
    fresh = synthesize(text_artifact(fresh_store, rows), config.model_copy(update={"ray": POOL}), fresh_store.objects.config)
    assert fresh.speech.fingerprint == resumed.speech.fingerprint and fresh.shards_resumed == []
    got, expected = store.get(resumed.speech).to_table(), fresh_store.get(fresh.speech).to_table()
    assert got.num_rows == expected.num_rows == 40 and len(set(got.column("id").to_pylist())) == 40
    for column in ("id", "voice", "audio", "duration_s", "word_timings"):
        assert got.column(column).equals(expected.column(column)), column
    assert store.get(resumed.quarantine).num_rows == 0 and len(store.get(resumed.quarantine).manifest.shards) == 10


def test_regenerating_one_cluster_speaks_only_its_shards_and_copies_the_rest(ray_address, local_store):
    texts = short_texts(14, sentences=1)
    first_rows = [{**r, "cluster": f"c{i % 3}"} for i, r in enumerate(texts[:9])]  # clusters c0, c1, c2; 3 rows each
    config = SynthesisConfig(shard_rows=2, ray=POOL)
    first = synthesize(text_artifact(local_store, first_rows), config, local_store.objects.config)
    before = local_store.get(first.speech)
    assert [s.rows for s in before.manifest.shards] == [2, 1, 2, 1, 2, 1]  # grouped: no shard mixes clusters
    assert before.to_table().column("cluster").to_pylist() == ["c0"] * 3 + ["c1"] * 3 + ["c2"] * 3

    # cluster 1 redrawn (other texts), clusters 0 and 2 unchanged, in another input order
    redrawn = [{**r, "cluster": "c1"} for r in texts[9:13]]
    second_rows = [r for r in first_rows if r["cluster"] == "c2"] + redrawn + [r for r in first_rows if r["cluster"] == "c0"]
    second = synthesize(text_artifact(local_store, second_rows, name="texts_regenerated"), config, local_store.objects.config)
    after = local_store.get(second.speech)
    assert second.speech.fingerprint != first.speech.fingerprint and not second.reused
    # shards 0 (cluster 0: 2 rows), 1 (cluster 0: 1 row), 4, 5 (cluster 2) copied; 2, 3 (cluster 1: 4 rows) spoken
    assert second.shards_copied == [0, 1, 4, 5] and second.shards_written == [2, 3]
    assert after.manifest.stats["rows_copied_from_earlier_versions"] == 6 and after.manifest.stats["rows_spoken_this_run"] == 4
    old, new = before.to_table(), after.to_table()
    for shard in (0, 1, 4, 5):  # the same rows, audio and timings, byte for byte
        assert after.read_shard(shard).equals(before.read_shard(shard)), shard
        assert after.manifest.shards[shard].sha256 == before.manifest.shards[shard].sha256
    assert new.column("id").to_pylist()[3:7] == [r["id"] for r in redrawn]
    assert set(old.column("id").to_pylist()) - set(new.column("id").to_pylist()) == {r["id"] for r in first_rows if r["cluster"] == "c1"}
    # the quality gate judges the copied shards once: their verdicts are copied with them
    from tasks.quality_gate import gate_speech
    from tasks.quality_gate_config import QualityGateConfig

    gate_speech.fn(first.speech, QualityGateConfig(), local_store.objects.config)
    regated = gate_speech.fn(second.speech, QualityGateConfig(), local_store.objects.config)
    quality = local_store.get(regated.quality).manifest
    assert quality.stats["shards_copied"] == 4 and quality.stats["shards_written_this_run"] == 2
    # and Mimi: the unchanged clusters' codes are copied, only cluster c1's 2 shards are encoded
    from tasks.tokenize import tokenize_speech
    from tasks.tokenize_config import TokenizeConfig

    cfg = local_store.objects.config
    codes_before = tokenize_speech.fn(
        first.speech, TokenizeConfig(output_name="speech_codes"), cfg, keep=gate_speech.fn(first.speech, QualityGateConfig(), cfg).gated
    )
    shared = TokenizeConfig(output_name="speech_codes", weights_artifact=str(codes_before.weights))
    codes_after = tokenize_speech.fn(second.speech, shared, cfg, keep=regated.gated)
    made = local_store.get(codes_after.codes).manifest
    assert codes_after.shards_written == [2, 3] and made.stats["shards_copied"] == 4, made.stats
    old_codes = local_store.get(codes_before.codes)
    for shard in (0, 1, 4, 5):
        assert made.shards[shard].sha256 == old_codes.manifest.shards[shard].sha256
    # another TTS setting is another shard key: nothing copied
    other = synthesize(
        text_artifact(local_store, second_rows, name="texts_regenerated"),
        config.model_copy(update={"tts": TTSConfig(voices=["en-us+f3"])}),
        local_store.objects.config,
    )
    assert other.shards_copied == [] and len(other.shards_written) == 6


def test_input_without_text_column_is_refused_clearly(ray_address, local_store):
    from storage import StageSpec
    from tasks.sharded_stage import write_table_artifact

    ref = write_table_artifact(local_store, StageSpec(name="ids", code_version="t"), pa.table({"id": ["a"]}))
    with pytest.raises(ValueError, match=r"has no column\(s\) \['text'\]"):
        synthesize(ref, SynthesisConfig(ray=POOL), local_store.objects.config)


def test_backend_that_cannot_be_built_fails_the_task_clearly(ray_address, local_store):
    ref = text_artifact(local_store, short_texts(2, sentences=1))
    config = SynthesisConfig(tts=TTSConfig(voices=["no-such-voice"]), ray=POOL)
    with pytest.raises(RuntimeError, match=r"the TTS backend could not be built: ValueError: espeak-ng has no voice named \['no-such-voice'\]"):
        synthesize(ref, config, local_store.objects.config)
    assert local_store.names() == ["texts"]  # nothing half-written


class DiesOnPoison:
    """A pool member whose process exits on one input, as a segfaulting TTS library would."""

    def run(self, item):
        if item == "poison":
            os._exit(1)
        return item * 10


def test_stream_survives_a_row_that_kills_its_worker(ray_address, module_actors):
    import ray

    from tasks.ray_pool import OrderedActorStream, start_actors

    actors = module_actors(start_actors(DiesOnPoison, RayPoolConfig(n_actors=2, num_cpus_per_actor=0.5, call_retries_on_worker_death=1)))
    stream = OrderedActorStream(actors, max_in_flight_per_actor=2)
    run = lambda actor, item: actor.run.remote(item)  # noqa: E731
    items = [1, 2, "poison", 3, 4, 5, 6]
    results = list(stream.map(run, items))
    assert [item for item, _ in results] == items  # input order, nothing lost, nothing raised
    assert isinstance(dict(results)["poison"], ray.exceptions.RayActorError)
    # a call queued behind the killer on the same actor may run out of retries too; the synthesis
    # task re-runs such calls row by row (isolate_rows), which recovers every innocent row
    recovered = [r if not isinstance(r, Exception) else stream.call(run, item, actor_index=i) for i, (item, r) in enumerate(results) if item != "poison"]
    assert recovered == [10, 20, 30, 40, 50, 60]
    assert [stream.call(run, 7, actor_index=i) for i in (0, 1)] == [70, 70]  # both actors restarted and usable


class HangsOnRow:
    """A pool member that never returns on one input, as a TTS library looping on a text would."""

    def run(self, item):
        if item == "hang":
            time.sleep(3600)
        return item * 10

    def run_rows(self, item):  # RowSynthesizer.run's shape: a list of records
        return [self.run(item)]


class SlowToBuild(HangsOnRow):
    """A pool member whose constructor (a model load) takes longer than a call may."""

    def __init__(self):
        time.sleep(3.0)


def test_a_slow_start_is_not_taken_for_a_hung_call(ray_address, module_actors):
    """The loaded-machine failure: a replacement's start counted against its first call's timeout."""
    from tasks.ray_pool import OrderedActorStream, actor_factory, start_actors

    pool = RayPoolConfig(n_actors=1, num_cpus_per_actor=0.5)
    actors = module_actors(start_actors(SlowToBuild, pool))  # started, not yet built: the stream waits
    stream = OrderedActorStream(actors, 2, call_timeout_s=2.0, replace_actor=actor_factory(SlowToBuild, pool))
    run = lambda actor, item: actor.run.remote(item)  # noqa: E731
    assert dict(stream.map(run, [1, 2])) == {1: 10, 2: 20} and stream.calls_timed_out == 0
    results = dict(stream.map(run, ["hang", 3, 4]))  # the hung actor's replacement takes 3 s to build
    assert stream.calls_timed_out == 1 and isinstance(results["hang"], Exception)
    assert stream.call(run, 5) == 50 and stream.calls_timed_out == 1  # its first call: no timeout


def test_stream_replaces_an_actor_whose_call_hangs(ray_address, module_actors):
    from tasks.ray_pool import CallTimedOut, OrderedActorStream, actor_factory, start_actors
    from tasks.tts import isolate_rows

    pool = RayPoolConfig(n_actors=2, num_cpus_per_actor=0.5)
    actors = module_actors(start_actors(HangsOnRow, pool))
    first = list(actors)
    stream = OrderedActorStream(actors, 2, call_timeout_s=2.0, replace_actor=actor_factory(HangsOnRow, pool))
    run = lambda actor, item: actor.run.remote(item)  # noqa: E731
    items = [1, 2, "hang", 3, 4, 5, 6]
    started = time.monotonic()
    results = dict(stream.map(run, items))
    assert time.monotonic() - started < 30  # one timeout, not a wait for ever
    assert isinstance(results["hang"], CallTimedOut) and stream.calls_timed_out == 1
    assert sum(a is not b for a, b in zip(first, actors)) == 1  # exactly the hung actor was replaced, in place
    innocent = [i for i in items if i != "hang"]
    assert [r for i, r in results.items() if i != "hang" and not isinstance(r, Exception)] == [
        10 * i for i in innocent if not isinstance(results[i], Exception)
    ]
    # the synthesis task re-runs a failed call's rows one per call: the innocent ones come back,
    # the hanging one times out again and is quarantined with its own reason
    rows = [{"id": str(i), "text": i} for i in ["hang", *innocent]]
    records, failed = isolate_rows(rows, lambda row, i: stream.call(lambda actor, r: actor.run_rows.remote(r["text"]), row, actor_index=i), 200)
    assert failed == 1 and stream.calls_timed_out == 2
    assert records[0]["reason"] == "synthesis hung on this row (timed out; its worker was replaced)"
    assert "call_timeout_s=2" in records[0]["error"]
    assert records[1:] == [10 * i for i in innocent]


class ReportsModel:
    def __init__(self, info):
        self.info = info

    def model_info(self):
        return self.info


def test_actors_must_load_the_model_the_fingerprint_was_computed_for(ray_address, module_actors):
    import ray

    from tasks.tts import check_pool_identity, driver_model_info, model_identity

    driver = driver_model_info(TTSConfig())
    assert model_identity({**driver, "device": "cuda:1"}) == model_identity(driver)  # a machine fact, not identity
    actors = module_actors([ray.remote(ReportsModel).remote(driver), ray.remote(ReportsModel).remote({**driver, "revision": "1.49.0"})])
    check_pool_identity(actors[:1], driver)
    with pytest.raises(RuntimeError, match="the synthesis actors load other models than the driver"):
        check_pool_identity(actors, driver)


def test_kokoro_with_random_weights_runs_through_the_pool_and_is_labelled(ray_address, local_store, monkeypatch):
    """The paper's backend end to end on Ray (test-mode weights): 24 kHz rows, the manifest says
    random weights, and the identity the driver computes on CPU matches the actors'."""
    ref = text_artifact(local_store, short_texts(2, sentences=1))
    tts = TTSConfig(backend="kokoro", random_weights=True, voices=["af_heart"], seed=3)
    config = SynthesisConfig(tts=tts, ray=RayPoolConfig(n_actors=1, num_cpus_per_actor=1))
    out = synthesize(ref, config, local_store.objects.config)
    rows = read_speech(local_store, out.speech)
    assert len(rows) == 2 and {r["sample_rate"] for r in rows} == {SAMPLE_RATE} and {r["voice"] for r in rows} == {"af_heart"}
    for row in rows:
        audio, rate = sf.read(io.BytesIO(row["audio"]))
        assert rate == SAMPLE_RATE and abs(len(audio) / rate - row["duration_s"]) < 1e-3 and len(audio) > 0
    manifest = local_store.get(out.speech).manifest
    assert manifest.models["tts"].startswith("kokoro:hexgrad/Kokoro-82M (random weights)@")
    monkeypatch.setattr("tasks.tts.ray_session", lambda *_: pytest.fail("a reused version must not need Ray"))
    assert synthesize(ref, config, local_store.objects.config).reused
