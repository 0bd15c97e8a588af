"""Training data from the store: tiny inputs builder (shared by the training tests) and data tests.

`tiny_training_inputs()` builds, once per test session, a store with the bundled corpus, a micro
tokenizer + teacher, Mimi weights fitted on 2 s of seeded noise, and a `speech`-like transcripts
artifact (id, text, word_timings) with a codes artifact of seeded random codes made "from" it:
everything a training stage reads, in ~20 s.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import math
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import torch

from salad_core.corpus.ingest_config import IngestConfig
from salad_core.mimi import CodebookFitConfig, MimiConfig, MimiTokenizer
from salad_core.training import Mixture, SpeechSource, TextSource, TrainConfig, TrainingDataError, pack
from salad_core.interleave.builder import InterleaveConfig
from storage import ArtifactRef, ArtifactStore, StageSpec
from tasks.checkpoint_store import SourceRefs
from tasks.ingest import ingest_corpus
from tasks.sharded_stage import write_table_artifact
from tasks.teacher import build_teacher, build_tokenizer, read_tokenizer
from tasks.tokenize import WEIGHTS_SCHEMA, codes_schema
from tasks.tokenize_config import TokenizeConfig
from tests.tiny_models import MICRO_TEACHER as TINY_TEACHER

torch.set_num_threads(1)
MICRO_TEACHER = TINY_TEACHER.model_copy(update={"train_steps": 40, "warmup_steps": 5, "max_eval_tokens": 2048})
CODES_SCHEMA = codes_schema(TokenizeConfig())  # the `codes` layout tasks/tokenize.py writes
TRANSCRIPTS_SCHEMA = pa.schema(
    [("id", pa.string()), ("text", pa.string()), ("word_timings", pa.list_(pa.struct([("word", pa.string()), ("start", pa.float64()), ("end", pa.float64())])))]
)


def speech_rows(texts: list[tuple[str, str]], seed: int, n_codebooks: int = 8, timed: bool = True):
    """(transcript rows, codes rows): 0.32 s per word, a 0.08 s pause between words, random codes."""
    rng = np.random.default_rng(seed)
    transcripts, codes = [], []
    for doc_id, text in texts:
        words = text.split()
        timings = [{"word": w, "start": 0.4 * i, "end": 0.4 * i + 0.32} for i, w in enumerate(words)]
        n_frames = math.ceil(0.4 * len(words) * 12.5)
        transcripts.append({"id": doc_id, "text": text, "word_timings": timings if timed else None})
        codes.append(
            {
                "id": doc_id,
                "codes": rng.integers(0, 2048, n_frames * n_codebooks).astype(np.int16),
                "n_frames": n_frames,
                "n_codebooks": n_codebooks,
                "frame_rate": 12.5,
                "duration_s": 0.4 * len(words),
            }
        )
    return transcripts, codes


def write_speech(
    store: ArtifactStore, name: str, texts, mimi: ArtifactRef, seed: int = 0, n_codebooks: int = 8, timed: bool = True, shards: int = 2
) -> SourceRefs:
    """A transcripts artifact `name` and its codes artifact `name_codes` (made from it and `mimi`)."""
    transcripts, codes = speech_rows(texts, seed, n_codebooks, timed)
    spec = StageSpec(name=name, params={"seed": seed, "n": len(texts), "timed": timed}, code_version="test-1")
    per = -(-len(transcripts) // shards)

    def sharded(rows, schema):
        return lambda committed: [(i, pa.Table.from_pylist(rows[i * per : (i + 1) * per], schema=schema)) for i in range(shards)]

    from tasks.sharded_stage import write_sharded_artifact

    t_ref, _ = write_sharded_artifact(store, spec, sharded(transcripts, TRANSCRIPTS_SCHEMA), schema=TRANSCRIPTS_SCHEMA)
    codes_spec = StageSpec(
        name=f"{name}_codes",
        params={"n_codebooks": n_codebooks},
        code_version="test-1",
        parents=[t_ref, mimi],
        models={"mimi": f"mimi:random-fitted@{mimi.fingerprint}"},
    )
    c_ref, _ = write_sharded_artifact(store, codes_spec, sharded(codes, CODES_SCHEMA), schema=CODES_SCHEMA)
    return SourceRefs(codes=c_ref, transcripts=t_ref)


class TinyInputs:
    def __init__(self, root: Path):
        self.root = root
        self.store = ArtifactStore.open(str(root / "store"))
        cfg = self.store.objects.config
        self.corpus = ingest_corpus.fn(IngestConfig(bundled_docs=120), cfg).corpus
        self.tokenizer_ref = build_tokenizer.fn(self.corpus, MICRO_TEACHER, cfg)
        self.teacher = build_teacher.fn(self.corpus, self.tokenizer_ref, MICRO_TEACHER, cfg).teacher
        self.tokenizer = read_tokenizer(self.store, self.tokenizer_ref)
        self.mimi = self._mimi_weights()
        docs = self.store.get(self.corpus).to_table(columns=["id", "text"]).to_pylist()
        self.texts = [(d["id"], " ".join(d["text"].split()[:60])) for d in docs]
        self.natural = write_speech(self.store, "natural", self.texts[:60], self.mimi, seed=1)
        self.synthetic = write_speech(self.store, "synthetic", self.texts[60:100], self.mimi, seed=2)

    def _mimi_weights(self) -> ArtifactRef:
        cfg = MimiConfig(weights="random", codebook_fit=CodebookFitConfig(max_seconds=2.0, kmeans_iters=2))
        tok = MimiTokenizer.load(cfg, [np.random.RandomState(0).randn(48000).astype(np.float32) * 0.1])
        path = self.root / "mimi.safetensors"
        tok.save(path)
        table = pa.Table.from_pylist([{"safetensors": path.read_bytes(), "model_info": "{}"}], schema=WEIGHTS_SCHEMA)
        return write_table_artifact(self.store, StageSpec(name="mimi_weights", params={"test": 1}, code_version="test-1"), table)

    def stage1_data(self) -> dict[str, SourceRefs]:
        return {"natural": self.natural, "text": SourceRefs(corpus=self.corpus)}

    def stage2_data(self) -> dict[str, SourceRefs]:
        return {**self.stage1_data(), "synthetic": self.synthetic}


@functools.lru_cache(maxsize=1)
def tiny_training_inputs() -> TinyInputs:
    root = Path(tempfile.mkdtemp(prefix="salad-train-inputs-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return TinyInputs(root)


TINY = TrainConfig.preset("tiny").model_copy(
    update=dict(
        steps=6,
        warmup_steps=1,
        save_every=3,
        log_every=2,
        eval_every=3,
        max_positions=128,
        micro_batch_positions=512,
        held_out_samples=4,
        held_out_fraction=0.15,
    )
)


# ------------------------------------------------------------------------------------- tests


class ListRows:
    def __init__(self, shards: list[list[dict]], label: str = "rows"):
        self.shards, self.label, self.num_shards = shards, label, len(shards)

    def read_shard(self, shard: int) -> list[dict]:
        return self.shards[shard]


@pytest.fixture(scope="module")
def inputs() -> TinyInputs:
    return tiny_training_inputs()


def _speech_source(inputs, rows, name="natural", fraction=0.0):
    interleave = InterleaveConfig(max_positions=128, text_words=(3, 6), speech_words=(2, 4))
    return SpeechSource(name, rows, inputs.tokenizer, interleave, num_codebooks=8, seed=0, held_out_fraction=fraction)


def _joined(inputs, texts, **kw):
    transcripts, codes = speech_rows(texts, seed=0, **kw)
    return [{**c, **t} for c, t in zip(codes, transcripts)]


def test_mixture_is_seeded_and_resumes_at_the_same_position(inputs):
    def make():
        speech = _speech_source(inputs, ListRows([_joined(inputs, inputs.texts[:10]), _joined(inputs, inputs.texts[10:20])]))
        text = TextSource("text", ListRows([[{"id": i, "text": t} for i, t in inputs.texts[:8]]]), inputs.tokenizer, 64)
        return Mixture({"natural": (speech, 2.0), "text": (text, 1.0)}, budget=256, max_rows=4, seed=3)

    a = make()
    first = [a.next_micro_batch() for _ in range(5)]
    state = a.state()
    rest = [a.next_micro_batch() for _ in range(20)]
    b = make()
    b.restore(state)
    again = [b.next_micro_batch() for _ in range(20)]
    ids = lambda batches: [(n, [it.sample.sample_id for it in items]) for n, items in batches]  # noqa: E731
    assert ids(again) == ids(rest)
    assert [it.sample.segments for _, items in again for it in items] == [it.sample.segments for _, items in rest for it in items]
    assert a.state() == b.state()
    assert a.state()["counts"] == {"natural": 18, "text": 7}  # golden: weights 2:1, seeded RNG, 25 micro-batches
    assert all(sum(1 for _ in items) >= 1 for _, items in first)


def test_micro_batches_stay_within_the_position_budget(inputs):
    speech = _speech_source(inputs, ListRows([_joined(inputs, inputs.texts[:20])]))
    for _ in range(10):
        items = pack(speech, budget=300, max_rows=8)
        assert items and len(items) * max(it.cost for it in items) <= 300


def test_sample_larger_than_the_budget_is_a_clear_error(inputs):
    speech = _speech_source(inputs, ListRows([_joined(inputs, inputs.texts[:3])], label="codes@x"))
    with pytest.raises(TrainingDataError, match=r"codes@x: sample .* needs \d+ positions, more than the micro-batch budget of 16"):
        pack(speech, budget=16, max_rows=8)


def test_codes_without_word_timings_are_a_clear_error(inputs):
    speech = _speech_source(inputs, ListRows([_joined(inputs, inputs.texts[:3], timed=False)], label="codes@abc"))
    with pytest.raises(TrainingDataError, match=r"codes@abc: row .* has no word timings"):
        speech.peek()


def test_codebook_count_mismatch_is_a_clear_error(inputs):
    speech = _speech_source(inputs, ListRows([_joined(inputs, inputs.texts[:3], n_codebooks=4)], label="codes@abc"))
    with pytest.raises(TrainingDataError, match=r"codes@abc: row .* has 4 codebooks, the model reads 8"):
        speech.peek()


def test_empty_source_is_a_clear_error(inputs):
    with pytest.raises(TrainingDataError, match="empty source"):
        _speech_source(inputs, ListRows([]), name="synthetic")
    all_held_out = _speech_source(inputs, ListRows([_joined(inputs, inputs.texts[:3])]), fraction=0.999999)
    with pytest.raises(TrainingDataError, match="'natural'.*no usable sample.*empty source"):
        all_held_out.peek()


def test_held_out_rows_are_never_trained_on(inputs):
    rows = ListRows([_joined(inputs, inputs.texts[:40])])
    speech = _speech_source(inputs, rows, fraction=0.3)
    held = {it.sample.sample_id for it in speech.held_out_items(50)}
    trained = set()
    for _ in range(40):
        trained.add(speech.peek().sample.sample_id)
        speech.advance()
    assert held and trained and not held & trained


def test_plan_refuses_bad_inputs_before_launching(inputs, tmp_path):
    from tasks.train import plan_run

    store = inputs.store
    with pytest.raises(TrainingDataError, match=r"mixture source 'text' has no data artifacts \(an empty mixture source\)"):
        plan_run(store, TINY, {"natural": inputs.natural}, inputs.teacher)
    empty = write_speech(store, "empty", [], inputs.mimi, shards=1)
    with pytest.raises(TrainingDataError, match=r"mixture source 'natural': empty_codes@\w+ has no rows"):
        plan_run(store, TINY, {"natural": empty, "text": SourceRefs(corpus=inputs.corpus)}, inputs.teacher)
    other_mimi = write_table_artifact(store, StageSpec(name="mimi_weights", params={"other": 1}, code_version="test-1"), store.get(inputs.mimi).to_table())
    foreign = write_speech(store, "foreign", inputs.texts[:4], other_mimi, seed=3)
    stage2 = TrainConfig.preset("tiny", stage=2)
    with pytest.raises(TrainingDataError, match="tokenized by different Mimi weights"):
        plan_run(store, stage2, {**inputs.stage2_data(), "synthetic": foreign}, inputs.teacher)
    run = plan_run(store, TINY, inputs.stage1_data(), inputs.teacher)
    assert run.mimi_weights == inputs.mimi.model_copy(update={"uri": ""}) and run.precision == "fp32"
    assert plan_run(store, TINY, inputs.stage1_data(), inputs.teacher).checkpoint_spec(6, "final").fingerprint == run.checkpoint_spec(6, "final").fingerprint
