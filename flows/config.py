"""The pipeline's typed configuration: one YAML preset per scale, overridable from the CLI.

    cfg = load_config("tiny", ["ingest.limit=500", "store.uri=s3://bucket/salad"])

Presets live in ``configs/<name>.yaml`` (``tiny`` for CPU; ``3b``/``7b`` as in the paper); a path
to any YAML file works too. Overrides are ``dotted.key=value`` with YAML values
(``ingest.languages=[en]``, ``ingest.limit=null``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import difflib

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from salad_core.clustering.config import ClusterConfig
from salad_core.corpus.ingest_config import IngestConfig
from salad_core.embedding.config import EmbedConfig
from salad_core.speech_sources import SpeechSourceConfig
from salad_core.evaluation.config import BenchmarkConfig, EvalConfig
from salad_core.selection.config import MisalignmentConfig, ProbeConfig, RegenerationConfig, SelectionConfig
from salad_core.teacher.config import TeacherConfig
from salad_core.training.config import TrainConfig
from storage import StoreConfig
from tasks.quality_gate_config import QualityGateConfig
from tasks.text_selection import TextSelectionConfig
from tasks.tokenize_config import TokenizeConfig
from tasks.tts_config import SynthesisConfig

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
TRAIN_PRESETS = ("tiny", "3b", "7b")


class EvaluationConfig(BaseModel):
    """Which benchmarks to score the checkpoints on, and how (few-shot, context budget, views)."""

    model_config = ConfigDict(extra="forbid")

    benchmarks: list[BenchmarkConfig] = Field(
        default_factory=lambda: [BenchmarkConfig(name="bundled_mc")],
        description="Benchmarks (native files, local or s3://); bundled_mc is the embedded default.",
    )
    scoring: EvalConfig = Field(default_factory=EvalConfig)


class LaunchBudget(BaseModel):
    """What a run may cost before synthesis and training start (estimated from measured throughputs)."""

    model_config = ConfigDict(extra="forbid")

    max_device_hours: float | None = Field(
        default=None, gt=0, description="Refuse to synthesise the selection and train Stage II beyond this many device-hours (None: no limit)."
    )
    override: bool = Field(default=False, description="Go ahead beyond max_device_hours anyway (the estimate is still published).")


class PipelineConfig(BaseModel):
    """Every stage's configuration, under one name per stage (the flows' parameter names)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    preset: str = Field(default="tiny", description="The preset this configuration was built from.")
    store: StoreConfig = Field(default_factory=StoreConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    embed: EmbedConfig = Field(default_factory=EmbedConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    teacher: TeacherConfig = Field(default_factory=TeacherConfig)
    tts: SynthesisConfig = Field(default_factory=SynthesisConfig, description="Synthesis: backend, voice, Ray pool.")
    gate: QualityGateConfig = Field(default_factory=QualityGateConfig)
    natural_speech: SpeechSourceConfig | None = Field(
        default=None, description="Natural speech (LibriHeavy, Emilia, or a folder + TSV) for Stage I; None: a synthetic slice of the corpus."
    )
    tokenize: TokenizeConfig = Field(default_factory=TokenizeConfig)
    stage1_texts: TextSelectionConfig = Field(default_factory=TextSelectionConfig, description="Without natural speech: the corpus slice spoken for Stage I.")
    stage1: TrainConfig = Field(default_factory=lambda: TrainConfig.preset("tiny", stage=1))
    probe: ProbeConfig = Field(default_factory=ProbeConfig)
    misalignment: MisalignmentConfig = Field(default_factory=MisalignmentConfig)
    selection: SelectionConfig = Field(default_factory=SelectionConfig)
    regenerate: RegenerationConfig = Field(
        default_factory=RegenerationConfig, description="Selective regeneration: only these clusters take the new draw (off by default)."
    )
    stage2: TrainConfig = Field(default_factory=lambda: TrainConfig.preset("tiny", stage=2))
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    budget: LaunchBudget = Field(default_factory=LaunchBudget, description="Cost limit checked before synthesis and Stage II.")


class UnknownConfigKey(ValueError):
    """A key no config section has: a typo would otherwise silently run with the default."""


def _fields_at(model: type[BaseModel], path: tuple) -> list[str]:
    """Field names of the (nested) model at `path`, following pydantic annotations."""
    import typing

    for part in path:
        field = model.model_fields.get(str(part)) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return []
        candidates = [a for a in (typing.get_args(field.annotation) or (field.annotation,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not candidates:
            return []
        model = candidates[0]
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def explain_unknown_keys(error: ValidationError, source: str) -> UnknownConfigKey | None:
    """One message naming each unknown key and the closest known one, or None if none is unknown."""
    lines = []
    for err in error.errors():
        if err["type"] != "extra_forbidden":
            continue
        *parent, key = err["loc"]
        known = _fields_at(PipelineConfig, tuple(parent))
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"; did you mean {'.'.join(map(str, [*parent, close[0]]))!r}?" if close else (f"; known keys: {known}" if known else "")
        lines.append(f"unknown config key {'.'.join(map(str, err['loc']))!r} in {source}{hint}")
    return UnknownConfigKey("\n".join(lines)) if lines else None


def preset_path(preset: str | Path) -> Path:
    """The YAML file of `preset`: a preset name from `configs/`, or a path ending in .yaml or .yml.

    A missing one raises FileNotFoundError listing the known presets, so a typo says what was meant.
    """
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
    """`a.b.c=value` with a YAML value; a numeric part indexes a list (`evaluation.benchmarks.0.n_items=28`)."""
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"override {override!r} is not of the form dotted.key=value")
    parts = key.strip().split(".")
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            node = _list_item(node, part, override)
            continue
        node = node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            raise ValueError(f"override {override!r}: {part!r} is not a section")
    value = yaml.safe_load(raw) if raw.strip() else None
    if isinstance(node, list):
        node[_list_index(node, parts[-1], override)] = value
    else:
        node[parts[-1]] = value


def _list_index(items: list, part: str, override: str) -> int:
    if not part.isdigit() or int(part) >= len(items):
        raise ValueError(f"override {override!r}: {part!r} is not an index of a list of {len(items)} item(s)")
    return int(part)


def _list_item(items: list, part: str, override: str) -> dict:
    item = items[_list_index(items, part, override)]
    if not isinstance(item, dict):
        raise ValueError(f"override {override!r}: item {part} is not a section")
    return item


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def with_training_presets(data: dict[str, Any]) -> dict[str, Any]:
    """stage1/stage2 start from the preset's TrainConfig (paper values for 3b/7b); YAML keys refine it."""
    size = data.get("preset") if data.get("preset") in TRAIN_PRESETS else "tiny"
    for key, stage in (("stage1", 1), ("stage2", 2)):
        data[key] = _merged(TrainConfig.preset(size, stage=stage).model_dump(mode="json"), data.get(key) or {})
    return data


def read_preset(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A preset's YAML; `extends: <preset>` starts from another preset and states only what differs."""
    if path in seen:
        raise ValueError(f"presets extend each other in a cycle: {[p.name for p in (*seen, path)]}")
    data = yaml.safe_load(path.read_text()) or {}
    base = data.pop("extends", None)
    return _merged(read_preset(preset_path(base), (*seen, path)), data) if base else data


def load_config(preset: str | Path = "tiny", overrides: list[str] | None = None) -> PipelineConfig:
    """The validated configuration: `preset` (following its `extends`), then each `dotted.key=value` override in order.

    stage1/stage2 start from the preset's TrainConfig. An unknown key raises UnknownConfigKey
    naming the closest known one, instead of running with the default.
    """
    path = preset_path(preset)
    data = read_preset(path)
    data["preset"] = path.stem
    for override in overrides or []:
        apply_override(data, override)
    data = with_training_presets(data)
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        unknown = explain_unknown_keys(exc, f"{path} + overrides {overrides or []}")
        if unknown is not None:
            raise unknown from None
        raise
