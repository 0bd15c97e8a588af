"""Prefect task: any artifact with ``id, audio`` (FLAC bytes) -> the Mimi `codes` artifact.

    from tasks.tokenize import tokenize_speech
    out = tokenize_speech(utterances_ref, TokenizeConfig(), store_config)     # in a flow
    out = tokenize_speech.fn(speech_ref, TokenizeConfig(), store_config)      # plain Python (TTS output works too)

``codes``: ``id, codes`` (int16, flat and frame-major: ``np.asarray(codes).reshape(n_frames,
n_codebooks)``), ``n_frames, n_codebooks, frame_rate, duration_s``, and with ``latents`` set a
``latents`` column (float16/32, flat frame-major: ``latents_array(row)`` is (n_frames, 512)). Shard i holds the rows of
input shard i, in order, so a killed run resumes with the missing shards only. A row whose audio
does not decode goes to ``<output_name>_quarantine`` (``id, reason``, shard i with shard i),
committed before the codes, so a codes version never lacks its quarantine.

Weights: the real checkpoint when it is cached (nothing to fit). Otherwise seeded random weights
whose codebooks are fitted on the first ``calibration_seconds`` of the input's audio (in row
order, so deterministic); they are stored once as the `mimi_weights` artifact (one row: the
fitted codebooks as safetensors, 67 MB, + model_info; the rest is rebuilt from the seed and
checked against the full weights' hash) and later runs load them from there. The tokenizer's
``model_info`` (without local paths) is recorded in the codes manifest's ``models`` and is part
of its fingerprint: other weights, another version.
"""

from __future__ import annotations

import hashlib
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from prefect import task
from pydantic import BaseModel

from salad_core.audio import AudioDecodeError, decode_audio
from salad_core.mimi import FRAME_RATE, SAMPLE_RATE, MimiTokenizer
from salad_core.mimi.codes import LATENT_TYPES
from salad_core.mimi.codes import codes_schema as codes_layout
from salad_core.mimi.weights import find_real_weights
from salad_core.model_identity import model_entry, portable_info
from salad_core.records.quarantine import quarantine_row, quarantine_schema
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from storage.fingerprint import canonical_json
from tasks.ray_stage import EXECUTION_MODULES, run_stage
from tasks.scratch import scratch_folder
from tasks.sharded_stage import ShardedStage, stage_logger, stage_version, write_table_artifact
from tasks.tokenize_config import TokenizeConfig

TOKENIZE_CODE_VERSION = stage_version("tokenize-2", __name__, exclude=EXECUTION_MODULES)
WEIGHTS_CODE_VERSION = stage_version("mimi-weights-3", __name__, exclude=EXECUTION_MODULES)  # 2: codebooks + seed, not the full state dict
REQUIRED_COLUMNS = ("id", "audio")


def codes_schema(config: TokenizeConfig) -> pa.Schema:
    """The codes artifact's schema for `config`: with a `latents` column only when latents are kept."""
    return codes_layout(config.latents)


QUARANTINE_SCHEMA = quarantine_schema()  # the one quarantine record (id, stage, reason, error, excerpt)
WEIGHTS_SCHEMA = pa.schema([("safetensors", pa.binary()), ("model_info", pa.string())])


class TokenizeOutputs(BaseModel):
    codes: ArtifactRef
    quarantine: ArtifactRef
    weights: ArtifactRef | None = None  # None with the real checkpoint
    reused: bool
    shards_written: list[int] = []


def mimi_models(info: dict) -> dict[str, str]:
    """The manifest's `models`: a readable id and the identity hash (salad_core.model_identity), and
    the full portable info as JSON (what the weights are: codebooks, seed, calibration)."""
    portable = portable_info(info)
    kind = "random-fitted" if portable.get("random_weights") else "real"
    return {**model_entry("mimi", f"mimi:{kind}@{portable['weights_sha256'][:16]}", info), "mimi_info": canonical_json(portable)}


class AudioInput:
    """The rows to tokenize: every row of an audio artifact, or only those whose id a second
    artifact lists (a quality gate's pass list: the audio is stored once, in the synthesis output)."""

    def __init__(self, store: ArtifactStore, audio: ArtifactRef, keep: ArtifactRef | None = None) -> None:
        self.source = store.get(audio)
        missing = [c for c in REQUIRED_COLUMNS if c not in self.source.dataset().schema.names]
        if missing:
            raise ValueError(f"{self.source.ref} has no column(s) {missing}: tokenization needs 'id' and 'audio' (FLAC bytes)")
        self.keep = store.get(keep) if keep is not None else None
        self.keep_ids = None if self.keep is None else pa.array(self.keep.to_table(columns=["id"]).column("id").to_pylist(), pa.string())

    @property
    def refs(self) -> list[ArtifactRef]:
        """The artifacts the rows come from: the audio, and the pass list when one filters it (the parents)."""
        return [self.source.ref] + ([self.keep.ref] if self.keep is not None else [])

    @property
    def num_shards(self) -> int:
        """One shard per audio shard (the pass list only filters rows within it)."""
        return len(self.source.manifest.shards)

    def read(self, shard: int) -> tuple[list[tuple[str, np.ndarray]], list[dict[str, str]]]:
        """(decoded rows, quarantine records of rows whose audio is missing or does not decode)."""
        table = self.source.read_shard(shard, columns=list(REQUIRED_COLUMNS))
        if self.keep_ids is not None:
            table = table.filter(pc.is_in(table.column("id"), value_set=self.keep_ids))
        rows, refused = [], []
        for row_id, blob in zip(table.column("id").to_pylist(), table.column("audio").to_pylist()):
            try:
                if blob is None:
                    raise AudioDecodeError(f"{self.source.ref}:{row_id}", "the audio column is null")
                rows.append((row_id, decode_audio(blob, source=f"{self.source.ref}:{row_id}")[0]))
            except AudioDecodeError as err:
                refused.append({"id": row_id, "reason": str(err)})
        return rows, refused

    def calibration_audio(self, seconds: float) -> list[np.ndarray]:
        """The first ``seconds`` of the decodable audio to tokenize, in row order (the last clip cropped)."""
        needed, clips = int(seconds * SAMPLE_RATE), []
        for shard in range(self.num_shards):
            for _, audio in self.read(shard)[0]:
                clips.append(audio[:needed])
                needed -= len(clips[-1])
                if needed <= 0:
                    return clips
        if not clips:
            raise ValueError(f"{' filtered by '.join(map(str, self.refs))} has no audio rows to calibrate Mimi's random codebooks on")
        return clips


def load_tokenizer(store: ArtifactStore, source: AudioInput, config: TokenizeConfig, workdir: Path) -> tuple[MimiTokenizer, ArtifactRef | None]:
    """Real weights when found; else the stored fitted weights; else fit them now and store them."""
    log = stage_logger()
    if config.mimi.weights != "random" and config.weights_artifact is None and find_real_weights(config.mimi) is not None:
        return MimiTokenizer.load(config.mimi), None
    if config.weights_artifact is not None:
        weights_ref = store.get(config.weights_artifact).ref
    else:
        fit = config.mimi.model_dump(mode="json", include={"seed", "codebook_fit"})
        spec = StageSpec(
            name=config.weights_name,
            params={**fit, "calibration_seconds": config.calibration_seconds},
            code_version=WEIGHTS_CODE_VERSION,
            parents=source.refs,
        )
        weights_ref = store.find(spec)
        if weights_ref is None:
            log.info("fitting random Mimi codebooks on the first %.1f s of %s", config.calibration_seconds, source.refs[0])
            random_config = config.mimi.model_copy(update={"weights": "random", "weights_path": None})
            fitted = MimiTokenizer.load(random_config, source.calibration_audio(config.calibration_seconds))
            path = workdir / "fitted.safetensors"
            fitted.save(path)
            info = canonical_json(portable_info(fitted.model_info()))
            table = pa.Table.from_pylist([{"safetensors": path.read_bytes(), "model_info": info}], schema=WEIGHTS_SCHEMA)
            weights_ref = write_table_artifact(store, spec, table, {"model_info": portable_info(fitted.model_info())})
    blob = store.get(weights_ref).to_table(columns=["safetensors"]).column("safetensors")[0].as_py()
    path = workdir / f"{weights_ref.fingerprint}.safetensors"
    path.write_bytes(blob)
    return MimiTokenizer.load(config.mimi.model_copy(update={"weights": "auto", "weights_path": str(path)})), weights_ref


class TokenizeStage(ShardedStage):
    """Shard i of the codes (and of their quarantine) from shard i of the audio."""

    quarantine_schema = QUARANTINE_SCHEMA

    def __init__(self, store: ArtifactStore, spec: StageSpec, source: AudioInput, tokenizer: MimiTokenizer, config: TokenizeConfig):
        super().__init__(store, spec, source.num_shards)
        self.source, self.tokenizer, self.config = source, tokenizer, config
        self.schema = codes_schema(config)
        self.rows = self.rows_quarantined = self.rows_copied = 0
        self.audio_seconds = 0.0
        self.started = time.perf_counter()

    def num_shards(self) -> int:
        """One codes shard per audio shard: shard i comes from audio shard i."""
        return self.source.num_shards

    def process_shard(self, shard: int) -> tuple[pa.Table, pa.Table]:
        """Codes (and latents when asked) of audio shard `shard`'s kept rows, encoded `rows_per_call` at
        a time, and the quarantine records of the rows whose audio is missing or does not decode."""
        rows, refused = self.source.read(shard)
        with_latents = self.config.latents != "none"
        self.rows_quarantined += len(refused)
        out = []
        step = self.config.rows_per_call
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            clips = [a for _, a in part]
            if with_latents:
                encoded = self.tokenizer.encode_with_latents(clips)
            else:
                encoded = [(codes, None) for codes in self.tokenizer.encode_batch(clips)]
            for (row_id, audio), (codes, latents) in zip(part, encoded):
                out.append(
                    {
                        "id": row_id,
                        "codes": codes.reshape(-1),
                        "n_frames": codes.shape[0],
                        "n_codebooks": codes.shape[1],
                        "frame_rate": FRAME_RATE,
                        "duration_s": round(len(audio) / SAMPLE_RATE, 6),
                        "latents": None if latents is None else latents.reshape(-1).astype(self.config.latents),
                    }
                )
                self.audio_seconds += len(audio) / SAMPLE_RATE
        self.rows += len(out)
        columns = {
            "id": pa.array([r["id"] for r in out], pa.string()),
            "codes": pa.array([r["codes"] for r in out], pa.list_(pa.int16())),
            "n_frames": pa.array([r["n_frames"] for r in out], pa.int32()),
            "n_codebooks": pa.array([r["n_codebooks"] for r in out], pa.int16()),
            "frame_rate": pa.array([r["frame_rate"] for r in out], pa.float32()),
            "duration_s": pa.array([r["duration_s"] for r in out], pa.float64()),
        }
        if with_latents:
            columns["latents"] = pa.array([r["latents"] for r in out], pa.list_(LATENT_TYPES[self.config.latents]))
        refused = [quarantine_row(r["id"], self.spec.name, r["reason"]) for r in refused]
        return pa.table(columns, schema=self.schema), pa.Table.from_pylist(refused, schema=QUARANTINE_SCHEMA)

    def shard_input_digest(self, shard: int) -> str | None:
        """The audio shard's bytes and which of its rows are kept: a speech shard copied from an
        earlier version (selective regeneration) gets its codes copied too, not re-encoded."""
        audio = self.source.source
        digest = audio.manifest.shards[shard].sha256
        if digest is None or self.source.keep_ids is None:
            return digest
        ids = audio.read_shard(shard, columns=["id"]).column("id")
        kept = ids.filter(pc.is_in(ids, value_set=self.source.keep_ids)).to_pylist()
        return hashlib.sha256("\x1f".join([digest, *kept]).encode()).hexdigest()

    def account_copied(self, rows: pa.Table, quarantined: pa.Table | None) -> None:
        """Counts the copied shard's rows apart from those encoded in this run."""
        self.rows_copied += rows.num_rows

    def stats(self) -> dict[str, Any]:
        """This run's counts (rows encoded, quarantined and copied, audio and wall seconds, speed) and the Mimi info."""
        wall = time.perf_counter() - self.started
        return {
            "rows_this_run": self.rows,
            "rows_quarantined_this_run": self.rows_quarantined,
            "rows_copied_from_earlier_versions": self.rows_copied,
            "audio_seconds_this_run": round(self.audio_seconds, 3),
            "wall_seconds_this_run": round(wall, 3),
            "audio_seconds_per_wall_second": round(self.audio_seconds / wall, 2) if wall > 0 else None,
            "mimi": portable_info(self.tokenizer.model_info()),
        }


def ray_worker_stage(
    store: ArtifactStore, audio: ArtifactRef, keep: ArtifactRef | None, config: TokenizeConfig, weights_ref: ArtifactRef | None, spec: StageSpec
) -> TokenizeStage:
    """A Ray actor's own stage: the driver's weights (fitted ones from the store, never refitted), checked against the spec."""
    source = AudioInput(store, audio, keep)
    pinned = config if weights_ref is None else config.model_copy(update={"weights_artifact": str(weights_ref)})
    with scratch_folder("mimi") as tmp:
        tokenizer, _ = load_tokenizer(store, source, pinned, Path(tmp))
    found = mimi_models(tokenizer.model_info())
    if found != spec.models:
        raise RuntimeError(f"this worker loads Mimi {found['mimi']}, the driver {spec.models.get('mimi')}: other weights, other codes")
    return TokenizeStage(store, spec, source, tokenizer, config)


def tokenize_spec(source: AudioInput, weights_ref: ArtifactRef | None, tokenizer: MimiTokenizer, config: TokenizeConfig) -> StageSpec:
    """The codes spec: the content parameters, the audio (and pass list, and fitted weights) as parents,
    and Mimi's identity in `models`, so other weights make another version."""
    return StageSpec(
        name=config.output_name,
        params=config.content_params(),
        code_version=TOKENIZE_CODE_VERSION,
        parents=source.refs + ([weights_ref] if weights_ref else []),
        models=mimi_models(tokenizer.model_info()),
    )


@task(name="tokenize-speech")
def tokenize_speech(audio: ArtifactRef, config: TokenizeConfig, store_config: StoreConfig, keep: ArtifactRef | None = None) -> TokenizeOutputs:
    """Mimi codes for the rows of an audio artifact (utterances, speech), or only those listed in `keep` (speech_gated)."""
    store = ArtifactStore.open(store_config)
    source = AudioInput(store, audio, keep)
    with scratch_folder("mimi") as tmp:
        tokenizer, weights_ref = load_tokenizer(store, source, config, Path(tmp))
        spec = tokenize_spec(source, weights_ref, tokenizer, config)
        stage = TokenizeStage(store, spec, source, tokenizer, config)
        build = partial(ray_worker_stage, audio=audio, keep=keep, config=config, weights_ref=weights_ref, spec=spec)
        result = run_stage(stage, config.ray, build)
    return TokenizeOutputs(codes=result.ref, quarantine=result.quarantine, weights=weights_ref, reused=result.reused, shards_written=result.shards_written)
