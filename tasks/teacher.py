"""Prefect tasks: corpus → tokenizer artifact → teacher artifact; and loading the teacher back.

    from tasks.teacher import build_tokenizer, build_teacher, load_teacher
    tokenizer = build_tokenizer(corpus_ref, TeacherConfig(), store_config)
    outputs = build_teacher(corpus_ref, tokenizer, TeacherConfig(), store_config)
    model, tok = load_teacher(ArtifactStore.open(store_config), outputs.teacher)

``tokenizer`` (one row: tokenizer.json + special tokens) and ``teacher`` (embedded: one row per
tensor; pretrained: a pointer to the checkpoint plus the SHA-256 of its files, never the weights)
are versioned like every stage: same corpus, config and code ⇒ same fingerprints ⇒ reused
without reading the corpus or training. Lineage: the embedded tokenizer's parent is the corpus it
was trained on (a pretrained tokenizer comes from its checkpoint alone, recorded in ``models``);
the teacher's parents are the corpus (training and held-out text) and the tokenizer.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pyarrow as pa
import torch
from prefect import task
from pydantic import BaseModel, Field
from transformers import PreTrainedModel, PreTrainedTokenizerFast

import salad_core.teacher
from salad_core.model.llm import load_llm
from salad_core.teacher.checkpoint import TOKENIZER_FILES, checkpoint_hashes, resolve_checkpoint, snapshot_revision
from salad_core.teacher.config import TeacherConfig
from salad_core.teacher.corpus_text import split_documents
from salad_core.teacher.evaluate import evaluate_teacher
from salad_core.teacher.pretraining import new_tiny_teacher, pretrain
from salad_core.teacher.pretrained import pretrained_teacher_table
from salad_core.teacher.teacher_table import table_to_teacher
from salad_core.teacher.threads import torch_threads
from salad_core.teacher.token_stream import corpus_token_streams, token_windows
from salad_core.teacher.tokenizer import load_pretrained_tokenizer, speech_marker_ids, train_bpe_tokenizer
from salad_core.teacher.tokenizer_table import table_to_tokenizer, tokenizer_to_table
from salad_core.teacher.weights_table import state_dict_to_table
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.sharded_stage import TableStage, stage_logger, stage_version

TOKENIZER = "tokenizer"
TEACHER = "teacher"
_TEACHER_DIR = Path(salad_core.teacher.__file__).parent
# the tokenizer does not depend on how the model is trained or evaluated
_MODEL_ONLY = tuple(
    f"salad_core.teacher.{m}"
    for m in ("pretraining", "evaluate", "perplexity", "unigram", "weights_table", "teacher_table", "token_stream", "pretrained", "threads")
)
TOKENIZER_CODE_VERSION = stage_version("tokenizer-2", __name__, exclude=(*_MODEL_ONLY, "salad_core.model"))
TEACHER_CODE_VERSION = stage_version("teacher-2", __name__)
CORPUS_COLUMNS = ["id", "text"]


class TeacherOutputs(BaseModel):
    teacher: ArtifactRef
    reused: bool = Field(description="True when an existing version was returned and nothing was trained.")
    held_out_perplexity: float
    unigram_perplexity: float
    perplexity_ratio: float = Field(description="Teacher / unigram perplexity on the same held-out tokens.")


def _checkpoint_identity(config: TeacherConfig) -> tuple[Path, dict[str, str], dict[str, str]]:
    """(folder, file hashes, models entry) of a pretrained checkpoint."""
    folder = resolve_checkpoint(config.path)
    models = {"teacher": config.path}
    if revision := snapshot_revision(folder):
        models["teacher_revision"] = revision
    return folder, checkpoint_hashes(folder), models


def tokenizer_spec(corpus: ArtifactRef, config: TeacherConfig) -> StageSpec:
    """The `tokenizer` spec: an embedded tokenizer is a child of `corpus` (it is trained on it); a
    pretrained one is named by its checkpoint and the hashes of its tokenizer files, with no parent."""
    params = config.tokenizer_params()
    if config.source == "embedded":
        return StageSpec(name=TOKENIZER, params=params, code_version=TOKENIZER_CODE_VERSION, parents=[corpus])
    _, hashes, models = _checkpoint_identity(config)
    params["files_sha256"] = {name: sha for name, sha in hashes.items() if name in TOKENIZER_FILES}
    return StageSpec(name=TOKENIZER, params=params, code_version=TOKENIZER_CODE_VERSION, models=models)


def teacher_spec(corpus: ArtifactRef, tokenizer: ArtifactRef, config: TeacherConfig) -> StageSpec:
    """The `teacher` spec, child of `corpus` and `tokenizer`; a pretrained teacher also carries the
    hashes of its checkpoint's files, so other weights under the same path are a new version."""
    params, models = config.teacher_params(), {}
    if config.source == "pretrained":
        _, params["files_sha256"], models = _checkpoint_identity(config)
    return StageSpec(name=TEACHER, params=params, code_version=TEACHER_CODE_VERSION, parents=[corpus, tokenizer], models=models)


def read_tokenizer(store: ArtifactStore, ref: ArtifactRef | str) -> PreTrainedTokenizerFast:
    """The tokenizer stored in tokenizer version `ref`, ready to encode."""
    return table_to_tokenizer(store.get(ref).to_table())


def load_teacher(
    store: ArtifactStore, ref: ArtifactRef | str, device: str | torch.device = "cpu", dtype: str = "bfloat16"
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """(model in eval mode, its tokenizer) of a teacher version; ``dtype`` only for a pretrained checkpoint."""
    artifact = store.get(ref)
    tokenizer_refs = [p for p in artifact.manifest.parents if p.name == TOKENIZER]
    if len(tokenizer_refs) != 1:
        raise ValueError(f"{artifact.ref} does not name exactly one tokenizer parent")
    return table_to_teacher(artifact.to_table(), device=device, dtype=dtype), read_tokenizer(store, tokenizer_refs[0])


@task(name="build-tokenizer")
def build_tokenizer(corpus: ArtifactRef, config: TeacherConfig, store_config: StoreConfig) -> ArtifactRef:
    """The tokenizer version for `corpus` and `config`: a BPE tokenizer trained on the training split
    (embedded) or the checkpoint's own (pretrained), its speech marker ids in the stats; reused when committed."""
    store = ArtifactStore.open(store_config)
    log = stage_logger()

    def build() -> tuple[pa.Table, dict]:
        started = time.perf_counter()
        stats: dict = {}
        if config.source == "embedded":
            batches = store.get(corpus).iter_batches(columns=CORPUS_COLUMNS)
            texts = itertools.islice(split_documents(batches, config.held_out_fraction, held_out=False), config.max_tokenizer_docs)
            stats["train_docs"] = 0

            def counted():  # the trainer pulls the texts: count them on the way
                for text in texts:
                    stats["train_docs"] += 1
                    yield text

            tokenizer = train_bpe_tokenizer(counted(), config.vocab_size, config.min_frequency, config.max_positions)
        else:
            folder, _, _ = _checkpoint_identity(config)
            tokenizer = load_pretrained_tokenizer(str(folder))
        start_id, end_id = speech_marker_ids(tokenizer)
        stats.update(vocab_size=len(tokenizer), speech_start_id=start_id, speech_end_id=end_id)
        stats["wall_time_s"] = round(time.perf_counter() - started, 3)
        log.info("tokenizer: %d tokens, speech markers %d/%d", len(tokenizer), start_id, end_id)
        return tokenizer_to_table(tokenizer, config.source), stats

    return TableStage(store, tokenizer_spec(corpus, config), build).run().ref


@task(name="build-teacher")
def build_teacher(corpus: ArtifactRef, tokenizer: ArtifactRef, config: TeacherConfig, store_config: StoreConfig) -> TeacherOutputs:
    """The teacher version: trained on the corpus's training split (embedded) or a pointer to the
    checkpoint (pretrained), with its held-out perplexity against a unigram baseline; reused when committed."""
    store = ArtifactStore.open(store_config)
    log = stage_logger()

    def build() -> tuple[pa.Table, dict]:
        tok = read_tokenizer(store, tokenizer)
        started = time.perf_counter()
        with torch_threads(config.cpu_threads):
            batches = store.get(corpus).iter_batches(columns=CORPUS_COLUMNS)
            streams = corpus_token_streams(batches, tok, config.held_out_fraction, config.max_eval_tokens, config.max_train_tokens)
            log.info(
                "teacher data: %d training tokens (%d docs), %d held-out tokens (%d docs)",
                streams.train.numel(),
                streams.train_docs,
                streams.held_out.numel(),
                streams.held_out_docs,
            )
            stats = {"train_split_tokens": streams.train.numel(), "train_docs": streams.train_docs, "held_out_docs": streams.held_out_docs}
            if config.source == "embedded":
                model, training_stats = _train_embedded(streams, len(tok), config)
                stats.update(training_stats)
                table = state_dict_to_table(model.state_dict(), model.config)
            else:
                folder, hashes, _ = _checkpoint_identity(config)
                model = load_llm(str(folder), dtype=getattr(torch, config.dtype), device=config.device).eval()
                if len(tok) > model.config.vocab_size:
                    raise ValueError(f"tokenizer has {len(tok)} tokens, the checkpoint's model only {model.config.vocab_size}")
                table = pretrained_teacher_table(config.path, folder, hashes, model.config)
            evaluation = evaluate_teacher(model, streams, len(tok), config.seq_len, config.eval_batch_size, config.device)
        stats.update(evaluation.stats(), parameters=sum(p.numel() for p in model.parameters()))
        stats["wall_time_s"] = round(time.perf_counter() - started, 2)
        log.info(
            "teacher: held-out perplexity %.2f vs unigram %.2f (ratio %.3f)",
            evaluation.held_out_perplexity,
            evaluation.unigram_perplexity,
            evaluation.ratio,
        )
        return table, stats

    result = TableStage(store, teacher_spec(corpus, tokenizer, config), build).run()
    return _outputs(result.ref, store.get(result.ref).manifest.stats, reused=result.reused)


def _train_embedded(streams, vocab_size: int, config: TeacherConfig) -> tuple[PreTrainedModel, dict]:
    log = stage_logger()
    model = new_tiny_teacher(config, vocab_size)

    def progress(step: int, loss: float, lr: float) -> None:
        log.info("teacher step %d/%d: loss %.4f, lr %.2e", step, config.train_steps, loss, lr)

    result = pretrain(model, token_windows(streams.train, config.seq_len), config, log=progress)
    return model, {
        "training_tokens": result.tokens,
        "steps": result.steps,
        "train_wall_time_s": round(result.wall_time_s, 2),
        "tokens_per_s": round(result.tokens_per_s, 1),
        "final_train_loss": round(result.final_loss, 6),
        "final_train_loss_last20": round(result.final_loss_smoothed, 6),
    }


def _outputs(ref: ArtifactRef, stats: dict, reused: bool) -> TeacherOutputs:
    return TeacherOutputs(
        teacher=ref,
        reused=reused,
        held_out_perplexity=stats["held_out_perplexity"],
        unigram_perplexity=stats["unigram_perplexity"],
        perplexity_ratio=stats["perplexity_ratio"],
    )
