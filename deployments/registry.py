"""Every deployable flow, declared once; schedules and the work pool come from configs/schedules.yaml.

A new flow gets its deployment (UI form, defaults from the preset, schedule if configured) by one
line in ``DEPLOYABLES``:

    Deployable("embed", "flows.embed_flow.embed_flow", "Embed the corpus"),

Default parameters are filled from the pipeline configuration by parameter name: a parameter
called ``config`` gets the whole ``PipelineConfig``; one named like a section (``ingest``,
``store``, ...) gets that section. Flows take pydantic models, so the Prefect UI renders each as
a typed form with the defaults and field descriptions.

    from deployments.registry import build_deployments, load_deployment_settings
    settings = load_deployment_settings()
    deployments = build_deployments(load_config("tiny"), settings)
"""

from __future__ import annotations

import importlib
import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, model_validator

from flows.config import CONFIG_DIR, PipelineConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEDULES_FILE = CONFIG_DIR / "schedules.yaml"
TAGS = ["salad"]


@dataclass(frozen=True)
class Deployable:
    """A flow that gets a deployment: its deployment name, its import path, what it is for."""

    name: str
    flow: str  # "package.module.flow_object", importable wherever the worker runs
    description: str

    def load_flow(self):
        module, _, attr = self.flow.rpartition(".")
        return getattr(importlib.import_module(module), attr)


# One line per flow: its deployment (UI form, schedule) and `salad run <name>` both come from here.
DEPLOYABLES: tuple[Deployable, ...] = (
    Deployable("salad", "flows.salad_flow.salad_flow", "The whole method: data, Stage I, probe, M(c), γ-selection, Stage II, evaluation."),
    Deployable("pipeline", "flows.pipeline.pipeline_flow", "The data half: corpus, clusters, teacher, Stage I speech; reuses unchanged versions."),
    Deployable("evaluate", "flows.evaluate_flow.evaluate_flow", "Score checkpoints on spoken multiple-choice benchmarks: teacher/student on text, student on speech, the gap."),
    Deployable("ingest", "flows.ingest_flow.ingest_flow", "Ingest web text (bundled or FineWeb-Edu) into the corpus artifact."),
    Deployable("tts", "flows.tts_flow.tts_flow", "Synthesise and gate speech for a seeded sample of the corpus (Ray actor pool)."),
    Deployable("natural-speech", "flows.speech_flow.speech_flow", "Natural speech (folder + TSV, LibriHeavy, Emilia) → utterances → Mimi codes."),
    Deployable(
        "regenerate",
        "deployments.regenerate.regenerate_flow",
        "Data regeneration: the pipeline on schedule, skipping unchanged inputs by fingerprint, with a what-changed report.",
    ),
)


def deployable(name: str) -> Deployable:
    for item in DEPLOYABLES:
        if item.name == name:
            return item
    raise KeyError(f"unknown flow {name!r}; known: {', '.join(d.name for d in DEPLOYABLES)}")


def flow_arguments(flow, config: PipelineConfig) -> dict[str, Any]:
    """The flow's parameters taken from ``config`` by name: ``config`` is the whole configuration,
    a section's name (``ingest``, ``store``, ``natural_speech``, ...) that section."""
    args: dict[str, Any] = {}
    for name in inspect.signature(flow.fn).parameters:
        if name == "config":
            args[name] = config
        elif name in PipelineConfig.model_fields:
            args[name] = getattr(config, name)
    return args


class ScheduleSettings(BaseModel):
    cron: str = Field(description="Cron expression, e.g. '0 3 * * *'.")
    timezone: str = Field(default="UTC", description="IANA time zone the cron expression is read in.")
    active: bool = Field(default=True, description="False registers the schedule paused.")

    @model_validator(mode="after")
    def _valid_for_prefect(self) -> "ScheduleSettings":
        self.to_prefect()  # a typo in the cron string fails here, not at deploy time
        return self

    def to_prefect(self):
        from prefect.schedules import Cron

        return Cron(self.cron, timezone=self.timezone, active=self.active)


class WorkPoolSettings(BaseModel):
    name: str = Field(default="salad-process", description="Work pool the deployments run in.")
    type: str = Field(default="process", description="process | docker | kubernetes | ... (the worker type).")
    job_variables: dict[str, Any] = Field(default_factory=dict, description="Overrides of the pool's job template (image, env, ...).")


class DeploymentSettings(BaseModel):
    schedules: dict[str, ScheduleSettings] = Field(default_factory=dict)
    work_pool: WorkPoolSettings = Field(default_factory=WorkPoolSettings)


def load_deployment_settings(path: str | Path | None = None) -> DeploymentSettings:
    path = Path(path) if path else SCHEDULES_FILE
    settings = DeploymentSettings.model_validate(yaml.safe_load(path.read_text()) or {})
    unknown = sorted(set(settings.schedules) - {d.name for d in DEPLOYABLES})
    if unknown:
        raise ValueError(f"{path}: schedules for unknown deployments {unknown}; known: {[d.name for d in DEPLOYABLES]}")
    return settings


def default_parameters(flow, config: PipelineConfig) -> dict[str, Any]:
    """The flow's parameters filled from ``config`` by name, as JSON (what the UI form starts from).

    The store location is made absolute: a flow run's working directory is not the caller's.
    Secrets never go into deployment parameters (pydantic masks them); give credentials to the
    worker through the usual environment variables instead.
    """
    config = config.model_copy(deep=True)
    if not config.store.is_s3:
        config.store.uri = os.path.abspath(os.path.expanduser(config.store.uri))
    return {  # a section the preset leaves unset (natural_speech) stays a blank form field, not null
        name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        for name, value in flow_arguments(flow, config).items()
        if value is not None
    }


def build_deployments(config: PipelineConfig, settings: DeploymentSettings | None = None, work_pool: bool = True) -> list:
    """RunnerDeployments for every deployable flow: for a work pool (``work_pool``) or for ``serve``."""
    from prefect.deployments.runner import EntrypointType

    settings = settings or DeploymentSettings()
    pool = settings.work_pool
    job_variables = dict(pool.job_variables)
    if pool.type == "process":
        job_variables.setdefault("working_dir", str(REPO_ROOT))
    deployments = []
    for item in DEPLOYABLES:
        flow = item.load_flow()
        schedule = settings.schedules.get(item.name)
        deployments.append(
            flow.to_deployment(
                name=item.name,
                description=item.description,
                parameters=default_parameters(flow, config),
                schedules=[schedule.to_prefect()] if schedule else None,
                tags=TAGS + [f"preset:{config.preset}"],
                entrypoint_type=EntrypointType.MODULE_PATH,
                work_pool_name=pool.name if work_pool else None,
                job_variables=job_variables if work_pool else None,
            )
        )
    return deployments


def ensure_work_pool(settings: WorkPoolSettings) -> None:
    """Create the work pool when missing, with its worker type's default job template."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.base import BaseWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(settings.name)
            return
        except ObjectNotFound:
            pass
        worker = BaseWorker.get_worker_class_from_type(settings.type)  # local only: no registry download
        if worker is None:
            raise ValueError(
                f"no worker of type {settings.type!r} is installed here (e.g. pip install prefect-docker); "
                f"create the pool yourself: prefect work-pool create {settings.name} --type {settings.type}"
            )
        template = worker.get_default_base_job_template()
        client.create_work_pool(WorkPoolCreate(name=settings.name, type=settings.type, base_job_template=template))


def register(config: PipelineConfig, settings: DeploymentSettings | None = None) -> dict[str, str]:
    """Create or update every deployment on the configured work pool; returns {'flow/deployment': id}."""
    settings = settings or DeploymentSettings()
    ensure_work_pool(settings.work_pool)
    ids = {}
    for deployment in build_deployments(config, settings, work_pool=True):
        ids[f"{deployment.flow_name}/{deployment.name}"] = str(deployment.apply(work_pool_name=settings.work_pool.name))
    return ids
