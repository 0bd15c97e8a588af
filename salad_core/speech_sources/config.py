"""Which speech corpus to read and how to turn it into utterances (a form in the Prefect UI).

    SpeechSourceConfig(kind="folder", folder="/data/real_speech")          # folder/transcripts.tsv
    SpeechSourceConfig(kind="libriheavy", paths=["/data/libriheavy_cuts_small.jsonl.gz"],
                       path_remap={"download/librilight": "s3://corpora/librilight"})
    SpeechSourceConfig(kind="emilia", paths=["s3://corpora/Emilia/EN/*.tar"])

Everything but ``storage_options``, ``aligner_device`` and ``aligner_model_path`` decides the
content and is part of the fingerprint; the speech-ingest stage adds the aligner model's files
hash, so the same model in another folder (or on another machine) gives the same version.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from salad_core.credentials import refuse_secret_options, refuse_url_credentials

from salad_core.tts.quality import QualityThresholds


def natural_speech_thresholds() -> QualityThresholds:
    """The quality gate's bounds, widened for real recordings: people pause, read slowly, and
    crowd-sourced clips carry long silent lead-ins (a Common Voice clip here: 71% silent frames,
    1.2 s per word). Still refused: 0.2 s for four words, a 20 ms clip, a silent file with a
    transcript. Measured on the 18 real clips of ../shared/data/real_speech: 0.29-0.52 s per
    word, 10-71% silent frames, at most 0.0004% clipped samples."""
    return QualityThresholds(min_seconds_per_word=0.1, max_seconds_per_word=3.0, max_silence_ratio=0.9, max_clipping_ratio=0.01)


class SpeechSourceConfig(BaseModel):
    """A speech corpus and the rules that make its rows utterances (or quarantine them)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)  # errors never echo the input

    kind: Literal["folder", "libriheavy", "emilia"] = Field(
        default="folder",
        description="folder: audio files + a transcript TSV; libriheavy: lhotse cut JSONL(.gz); emilia: WebDataset tars.",
    )
    folder: str | None = Field(default=None, description="kind=folder: the folder holding the audio files.")
    transcripts: str = Field(
        default="transcripts.tsv",
        description="kind=folder: TSV with a header row, columns 'file' and 'text' (others ignored, 'speaker' used if present), "
        "tab-separated, no quoting, no tab inside a field, every line with the header's field count (other lines are "
        "quarantined naming file and line); UTF-8; relative paths are inside `folder`.",
    )
    paths: list[str] = Field(
        default_factory=list,
        description="kind=libriheavy/emilia: manifest or tar files, local or s3://, globs allowed; read in sorted order.",
    )
    path_remap: dict[str, str] = Field(
        default_factory=lambda: {"download/librilight": "download/librilight"},
        description="kind=libriheavy: recording path prefix -> replacement (a local folder or s3://...); longest prefix wins.",
    )
    storage_options: dict[str, Any] = Field(default_factory=dict, description="fsspec options for s3:// inputs (endpoint, credentials); not fingerprinted.")
    source_name: str | None = Field(default=None, description="Value of the `source` column (default: the kind).")
    max_seconds: float | None = Field(default=None, gt=0, description="Crop longer utterances to this many seconds (word timings past the end dropped).")
    allow_empty_text: bool = Field(
        default=False, description="Keep utterances without a transcript (e.g. for tokenizer-only use) instead of quarantining them."
    )
    clip_checks: QualityThresholds | None = Field(
        default_factory=natural_speech_thresholds,
        description="Bounds on seconds per word, silence and clipping (the TTS quality gate's checks) applied to every "
        "decoded clip, before alignment and cropping; an implausible clip is quarantined. null: no checks.",
    )
    min_seconds: float = Field(default=0.1, ge=0.0, description="Clips shorter than this are quarantined (also those without a transcript).")
    aligner_model_path: str | None = Field(
        default=None,
        description="Local CTC model folder (wav2vec2, HuBERT, WavLM; save_pretrained layout) used for word timings "
        "when the source has none; unset: only the source's timings.",
    )
    aligner_device: str = Field(default="cpu", description="torch device for the aligner (cpu, cuda, cuda:1); not fingerprinted.")
    limit: int | None = Field(default=None, ge=1, description="Read at most this many items (before quarantine).")
    shard_rows: int = Field(default=256, ge=1, description="Items per shard: the unit of resume after a crash.")

    @model_validator(mode="after")
    def _inputs_given(self) -> "SpeechSourceConfig":
        refuse_url_credentials([*self.paths, *self.path_remap.values()], "natural_speech.paths")
        refuse_secret_options(self.storage_options, "natural_speech.storage_options")
        if self.kind == "folder" and not self.folder:
            raise ValueError("kind='folder' needs `folder`")
        if self.kind != "folder" and not self.paths:
            raise ValueError(f"kind={self.kind!r} needs `paths` (manifests or tar shards)")
        return self

    @property
    def source(self) -> str:
        """Name recorded for rows from this source: `source_name` when set, else the reader kind."""
        return self.source_name or self.kind

    def content_params(self) -> dict[str, Any]:
        """The settings that decide the stage's output, for its fingerprint: storage options and aligner location/device are left
        out so moving them does not redo the stage."""
        # the aligner is fingerprinted by its files' hash (the stage's models), not by where it lies
        return self.model_dump(mode="json", exclude={"storage_options", "aligner_device", "aligner_model_path"})
