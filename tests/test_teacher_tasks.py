"""The tokenizer and teacher stages through the artifact store: lineage, stats, reuse, loading back."""

from __future__ import annotations

import json

import pytest
import torch

import salad_core.teacher.pretraining
from salad_core.corpus.ingest_config import IngestConfig
from salad_core.model import llm_from_config, tiny_qwen2_config
from salad_core.teacher.perplexity import model_perplexity
from salad_core.teacher.pretraining import new_tiny_teacher, pretrain
from salad_core.teacher.threads import torch_threads
from salad_core.teacher.token_stream import corpus_token_streams, token_windows
from salad_core.teacher.tokenizer import speech_marker_ids
from storage import ArtifactStore
from tasks.ingest import ingest_corpus
from tasks.teacher import CORPUS_COLUMNS, build_teacher, build_tokenizer, load_teacher, read_tokenizer
from salad_core.teacher.config import TeacherConfig
from tests.tiny_models import MICRO_TEACHER

MICRO = MICRO_TEACHER.model_copy(update={"train_steps": 150})


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ArtifactStore:
    return ArtifactStore.open(str(tmp_path_factory.mktemp("teacher") / "store"))


@pytest.fixture(scope="module")
def corpus(store):
    return ingest_corpus.fn(IngestConfig(bundled_docs=200), store.objects.config).corpus


@pytest.fixture(scope="module")
def tokenizer_ref(store, corpus):
    return build_tokenizer.fn(corpus, MICRO, store.objects.config)


@pytest.fixture(scope="module")
def teacher(store, corpus, tokenizer_ref):
    return build_teacher.fn(corpus, tokenizer_ref, MICRO, store.objects.config)


def test_tokenizer_artifact(store, corpus, tokenizer_ref):
    manifest = store.get(tokenizer_ref).manifest
    assert tokenizer_ref.name == "tokenizer" and manifest.parents == [corpus.model_copy(update={"uri": ""})]
    assert manifest.code_version.startswith("tokenizer-2+") and manifest.num_rows == 1
    tok = read_tokenizer(store, tokenizer_ref)
    assert manifest.stats["vocab_size"] == len(tok) <= 512
    assert (manifest.stats["speech_start_id"], manifest.stats["speech_end_id"]) == speech_marker_ids(tok)
    assert 150 < manifest.stats["train_docs"] < 198
    assert build_tokenizer.fn(corpus, MICRO, store.objects.config) == tokenizer_ref


def test_teacher_artifact_stats_and_lineage(store, corpus, tokenizer_ref, teacher):
    assert not teacher.reused and teacher.teacher.name == "teacher"
    manifest = store.get(teacher.teacher).manifest
    assert [p.name for p in manifest.parents] == ["corpus", "tokenizer"]
    assert [p.fingerprint for p in manifest.parents] == [corpus.fingerprint, tokenizer_ref.fingerprint]
    assert manifest.code_version.startswith("teacher-2+")
    stats = manifest.stats
    assert stats["steps"] == 150 and stats["training_tokens"] == 150 * 8 * 64
    assert {"train_wall_time_s", "tokens_per_s", "final_train_loss", "eval_tokens", "parameters"} <= set(stats)
    assert teacher.held_out_perplexity == stats["held_out_perplexity"]
    assert teacher.perplexity_ratio < 0.7, stats
    assert "device" not in manifest.params and manifest.params["train_steps"] == 150
    names = store.get(teacher.teacher).to_table(columns=["name"]).column("name").to_pylist()
    assert "model.embed_tokens.weight" in names and "lm_head.weight" in names


def test_loaded_teacher_reproduces_its_perplexity(store, corpus, teacher):
    model, tok = load_teacher(store, teacher.teacher)
    assert not model.training and model.config.vocab_size == len(tok)
    streams = corpus_token_streams(store.get(corpus).iter_batches(columns=CORPUS_COLUMNS), tok, MICRO.held_out_fraction, MICRO.max_eval_tokens)
    ppl = model_perplexity(model, token_windows(streams.held_out, MICRO.seq_len))
    assert ppl == pytest.approx(teacher.held_out_perplexity, abs=1e-3)
    # the same training in memory (deterministic) gives exactly the stored tensors and logits
    with torch_threads(MICRO.cpu_threads):
        trained = new_tiny_teacher(MICRO, len(tok))
        pretrain(trained, token_windows(streams.train, MICRO.seq_len), MICRO)
    stored = model.state_dict()
    assert all(torch.equal(t, stored[name]) for name, t in trained.state_dict().items())
    ids = streams.held_out[:64].unsqueeze(0)
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, trained(input_ids=ids).logits)


def test_rerun_reuses_without_training(store, corpus, tokenizer_ref, teacher, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("a reused teacher must not train")

    monkeypatch.setattr(salad_core.teacher.pretraining, "train_step", no_training)
    again = build_teacher.fn(corpus, tokenizer_ref, MICRO, store.objects.config)
    assert again.reused and again.teacher == teacher.teacher and again.held_out_perplexity == teacher.held_out_perplexity
    # runtime knobs are not part of the version
    elsewhere = MICRO.model_copy(update={"cpu_threads": 2, "log_every": 7, "eval_batch_size": 3})
    assert build_teacher.fn(corpus, tokenizer_ref, elsewhere, store.objects.config).reused


def test_changed_training_makes_a_new_teacher_but_keeps_the_tokenizer(store, corpus, tokenizer_ref, teacher):
    shorter = MICRO.model_copy(update={"train_steps": 5})
    assert build_tokenizer.fn(corpus, shorter, store.objects.config) == tokenizer_ref
    out = build_teacher.fn(corpus, tokenizer_ref, shorter, store.objects.config)
    assert not out.reused and out.teacher.fingerprint != teacher.teacher.fingerprint
    assert out.held_out_perplexity > teacher.held_out_perplexity


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory, store, tokenizer_ref):
    """A 'pretrained' checkpoint folder as Qwen2.5 ships one: config, safetensors, tokenizer files."""
    folder = tmp_path_factory.mktemp("checkpoint") / "tiny-qwen2"
    tok = read_tokenizer(store, tokenizer_ref)
    torch.manual_seed(5)
    llm_from_config(tiny_qwen2_config(vocab_size=len(tok) + 10, hidden=32, n_layer=1, mlp=64)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_pretrained_teacher_is_a_pointer_with_hashes(store, corpus, checkpoint_dir):
    config = TeacherConfig(source="pretrained", path=str(checkpoint_dir), dtype="float32", seq_len=64, max_eval_tokens=2048, cpu_threads=1)
    tokenizer = build_tokenizer.fn(corpus, config, store.objects.config)
    tok_manifest = store.get(tokenizer).manifest
    assert tok_manifest.parents == [] and tok_manifest.models == {"teacher": str(checkpoint_dir)}
    assert "tokenizer.json" in tok_manifest.params["files_sha256"]

    out = build_teacher.fn(corpus, tokenizer, config, store.objects.config)
    manifest = store.get(out.teacher).manifest
    assert not out.reused and "steps" not in manifest.stats and out.unigram_perplexity > 0
    row = store.get(out.teacher).to_table().to_pylist()[0]
    assert row["path"] == str(checkpoint_dir) and "model.safetensors" in json.loads(row["files_sha256_json"])
    assert manifest.num_bytes < 100_000  # the weights are not copied

    model, tok = load_teacher(store, out.teacher, dtype="float32")
    reference = type(model).from_pretrained(checkpoint_dir, local_files_only=True).eval()
    ids = torch.arange(20).unsqueeze(0)
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, reference(input_ids=ids).logits)
    assert build_teacher.fn(corpus, tokenizer, config, store.objects.config).reused

    (checkpoint_dir / "config.json").write_text((checkpoint_dir / "config.json").read_text().replace("}", ' , "note": 1}', 1))
    with pytest.raises(ValueError, match="differs from the stored version"):
        load_teacher(store, out.teacher, dtype="float32")
