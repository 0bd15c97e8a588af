"""The pipeline's typed configuration: one YAML preset per scale, overridable from the CLI.

    cfg = load_config("tiny", ["ingest.limit=500", "store.uri=s3://bucket/salad"])

Presets live in ``configs/<name>.yaml`` (``tiny`` for CPU; ``3b``/``7b`` as in the paper); a path
to any YAML file works too. Overrides are ``dotted.key=value`` with YAML values
(``ingest.languages=[en]``, ``ingest.limit=null``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from salad_core.clustering.config import ClusterConfig
from salad_core.corpus.ingest_config import IngestConfig
from salad_core.embedding.config import EmbedConfig
from salad_core.speech_sources import SpeechSourceConfig
from salad_core.teacher.config import TeacherConfig
from storage import StoreConfig
from tasks.quality_gate_config import QualityGateConfig
from tasks.tokenize_config import TokenizeConfig
from tasks.tts_config import SynthesisConfig

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


class PipelineConfig(BaseModel):
    """Every stage's configuration, under one name per stage."""

    preset: str = Field(default="tiny", description="The preset this configuration was built from.")
    store: StoreConfig = Field(default_factory=StoreConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    embed: EmbedConfig = Field(default_factory=EmbedConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    teacher: TeacherConfig = Field(default_factory=TeacherConfig)
    tts: SynthesisConfig = Field(default_factory=lambda: SynthesisConfig(limit=100, sample_seed=0))
    gate: QualityGateConfig = Field(default_factory=QualityGateConfig)
    speech: SpeechSourceConfig | None = Field(
        default=None, description="Natural speech (LibriHeavy, Emilia, or a folder + TSV) to ingest and tokenize; None: skip."
    )
    tokenize: TokenizeConfig = Field(default_factory=TokenizeConfig)


def preset_path(preset: str | Path) -> Path:
    path = Path(preset)
    if path.suffix in {".yaml", ".yml"}:
        if not path.exists():
            raise FileNotFoundError(f"config file {path} does not exist")
        return path
    path = CONFIG_DIR / f"{preset}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml") if p.stem != "schedules")
        raise FileNotFoundError(f"unknown preset {preset!r}; known presets: {known} (or pass a .yaml path)")
    return path


def apply_override(data: dict[str, Any], override: str) -> None:
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"override {override!r} is not of the form dotted.key=value")
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {override!r}: {part!r} is not a section")
    node[parts[-1]] = yaml.safe_load(raw) if raw.strip() else None


def load_config(preset: str | Path = "tiny", overrides: list[str] | None = None) -> PipelineConfig:
    path = preset_path(preset)
    data = yaml.safe_load(path.read_text()) or {}
    data.setdefault("preset", path.stem)
    for override in overrides or []:
        apply_override(data, override)
    return PipelineConfig.model_validate(data)
