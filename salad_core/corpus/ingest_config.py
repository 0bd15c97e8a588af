"""Typed configuration of the corpus ingest stage (rendered as a form in the Prefect UI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from salad_core.credentials import refuse_url_credentials


class IngestConfig(BaseModel):
    """Which web text to ingest, and which rows to keep."""

    # `min_int_scor` is an error, not a run with no filter; errors never echo the input (it may hold a credential)
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    source: Literal["bundled", "fineweb"] = Field(
        default="bundled", description="'bundled': the embedded multi-topic corpus; 'fineweb': FineWeb-Edu Parquet files."
    )
    paths: list[str] = Field(
        default_factory=list,
        description="FineWeb-Edu Parquet files or globs, local or s3:// (e.g. s3://bucket/fineweb-edu/sample/10BT/*.parquet).",
    )
    bundled_docs: int = Field(default=3000, ge=1, description="Documents generated for the bundled corpus.")
    bundled_bad_fraction: float = Field(default=0.01, ge=0.0, le=0.5, description="Deliberately invalid rows in the bundled corpus.")
    seed: int = Field(default=0, description="Seed of the bundled corpus.")
    min_int_score: int | None = Field(default=None, ge=0, le=5, description="Keep rows with int_score >= this.")
    languages: list[str] | None = Field(default=None, description="Keep only these language codes (e.g. ['en']).")
    min_language_score: float | None = Field(default=None, ge=0.0, le=1.0)
    min_chars: int | None = Field(default=None, ge=0, description="Drop texts shorter than this (after stripping).")
    max_chars: int | None = Field(default=None, ge=1, description="Drop texts longer than this.")
    limit: int | None = Field(default=None, ge=1, description="Stop after this many kept rows.")
    mojibake: Literal["quarantine", "repair"] = Field(
        default="quarantine",
        description="Mis-decoded text (e.g. 'cafÃ©'): 'quarantine' the row, or 'repair' it with ftfy and keep it "
        "(counted under rows_repaired in the stats, with the first ids).",
    )
    allow_empty: bool = Field(
        default=False,
        description="Commit an empty corpus when the input has no rows or every row is filtered or quarantined "
        "(with a loud warning); by default that fails the stage.",
    )
    read_batch_rows: int = Field(default=1000, ge=1, description="Rows read per batch (FineWeb row groups hold ~1,000).")
    shard_rows: int = Field(default=1000, ge=1, description="Rows per output shard: the unit of resume.")

    @model_validator(mode="after")
    def _paths_for_fineweb(self) -> "IngestConfig":
        refuse_url_credentials(self.paths, "ingest.paths")
        if self.source == "fineweb" and not self.paths:
            raise ValueError("ingest.source='fineweb' needs ingest.paths (files or globs, local or s3://)")
        if self.min_chars is not None and self.max_chars is not None and self.min_chars > self.max_chars:
            raise ValueError(f"ingest.min_chars={self.min_chars} is larger than ingest.max_chars={self.max_chars}")
        return self
