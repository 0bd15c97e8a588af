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

    def module_flow(self):
        """The flow object as its module defines it (what a worker imports from the entrypoint)."""
        module, _, attr = self.flow.rpartition(".")
        return getattr(importlib.import_module(module), attr)

    def load_flow(self):
        """The flow as a driver process runs it (``salad run``): its flow run records the driver's
        pid, so that a run whose driver was killed can be told from a live one (reconcile_runs)."""
        from deployments.server import record_driver_pid

        return self.module_flow().with_options(on_running=[record_driver_pid])


# One line per flow: its deployment (UI form, schedule) and `salad run <name>` both come from here.
DEPLOYABLES: tuple[Deployable, ...] = (
    Deployable("salad", "flows.salad_flow.salad_flow", "The whole method: data, Stage I, probe, M(c), γ-selection, Stage II, evaluation."),
    Deployable("pipeline", "flows.pipeline.pipeline_flow", "The data half: corpus, clusters, teacher, Stage I speech; reuses unchanged versions."),
    Deployable(
        "evaluate",
        "flows.evaluate_flow.evaluate_flow",
        "Score checkpoints on spoken multiple-choice benchmarks: teacher/student on text, student on speech, the gap.",
    ),
    Deployable("ingest", "flows.ingest_flow.ingest_flow", "Ingest web text (bundled or FineWeb-Edu) into the corpus artifact."),
    Deployable("tts", "flows.tts_flow.tts_flow", "Synthesise and gate speech for a seeded sample of the corpus (Ray actor pool)."),
    Deployable("natural-speech", "flows.speech_flow.speech_flow", "Natural speech (folder + TSV, LibriHeavy, Emilia) → utterances → Mimi codes."),
    Deployable(
        "stage",
        "flows.stage_flow.stage_flow",
        "One stage on given parent versions (e.g. cluster with another K): stage name, parents NAME@FINGERPRINT, the stage's section of config.",
    ),
    Deployable(
        "regenerate",
        "deployments.regenerate.regenerate_flow",
        "Data regeneration: the pipeline on schedule, skipping unchanged inputs by fingerprint, with a what-changed report.",
    ),
)


def deployable(name: str) -> Deployable:
    """The Deployable called ``name``; KeyError naming the known ones otherwise."""
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

    def to_prefect(self, paused: bool = False):
        """The Prefect Cron schedule; inactive when ``active`` is off or ``paused`` (a schedule a person paused in the UI)."""
        from prefect.schedules import Cron

        return Cron(self.cron, timezone=self.timezone, active=self.active and not paused)

    def key(self) -> tuple[str, str]:
        """``(cron, timezone)``: how a redeploy recognises this schedule among those paused on the server."""
        return (self.cron, self.timezone)


class WorkPoolSettings(BaseModel):
    name: str = Field(default="salad-process", description="Work pool the deployments run in.")
    type: str = Field(default="process", description="process | docker | kubernetes | ... (the worker type).")
    job_variables: dict[str, Any] = Field(default_factory=dict, description="Overrides of the pool's job template (image, env, ...).")


class AlertSettings(BaseModel):
    webhook_url: str | None = Field(
        default=None,
        description="POST every alert here as JSON (a chat tool's incoming webhook, an on-call endpoint); $SALAD_ALERT_WEBHOOK overrides.",
    )
    notification_block: str | None = Field(
        default=None,
        description="Or the name of a notification block made in the Prefect UI (Slack, e-mail, a webhook with secret headers).",
    )


class DeploymentSettings(BaseModel):
    schedules: dict[str, ScheduleSettings] = Field(default_factory=dict)
    work_pool: WorkPoolSettings = Field(default_factory=WorkPoolSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)


def load_deployment_settings(path: str | Path | None = None) -> DeploymentSettings:
    """Schedules, work pool and alerts from ``path`` (default configs/schedules.yaml).

    A schedule for a name that is not in ``DEPLOYABLES`` raises ValueError: a typo would otherwise
    leave its flow unscheduled without a word.
    """
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


@dataclass
class PausedOnServer:
    """What a person paused in the UI, which a redeploy must not switch back on."""

    deployment: bool = False  # the deployment's own toggle
    schedules: frozenset[tuple[str, str]] = frozenset()  # (cron, timezone) of schedules toggled off


def paused_on_server(serve: bool = False) -> dict[str, PausedOnServer]:
    """By deployment name, what is paused on the server of ``$PREFECT_API_URL`` now.

    ``serve``: a stopped serve process pauses every deployment it served (Prefect's
    pause_on_shutdown), so only schedules toggled off tell a person's intent.
    """
    from prefect.client.orchestration import get_client

    names = {d.name for d in DEPLOYABLES}
    found: dict[str, PausedOnServer] = {}
    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            if deployment.name not in names or not set(TAGS) <= set(deployment.tags or []):
                continue
            off = frozenset((s.schedule.cron, s.schedule.timezone or "UTC") for s in deployment.schedules if not s.active and getattr(s.schedule, "cron", None))
            state = PausedOnServer(deployment=bool(deployment.paused) and not serve, schedules=off)
            if state.deployment or state.schedules:
                found[deployment.name] = state
    return found


def build_deployments(
    config: PipelineConfig,
    settings: DeploymentSettings | None = None,
    work_pool: bool = True,
    paused: dict[str, PausedOnServer] | None = None,
) -> list:
    """RunnerDeployments for every deployable flow: for a work pool (``work_pool``) or for ``serve``.

    ``paused`` (``paused_on_server``): deployments and schedules that stay paused whatever the
    settings say: a schedule paused in the UI survives ``salad ui down && salad ui up``.
    """
    from prefect.deployments.runner import EntrypointType

    settings = settings or DeploymentSettings()
    paused = paused or {}
    pool = settings.work_pool
    job_variables = dict(pool.job_variables)
    if pool.type == "process":
        job_variables.setdefault("working_dir", str(REPO_ROOT))
    deployments = []
    for item in DEPLOYABLES:
        flow = item.module_flow()
        schedule = settings.schedules.get(item.name)
        kept = paused.get(item.name, PausedOnServer())
        deployments.append(
            flow.to_deployment(
                name=item.name,
                description=item.description,
                parameters=default_parameters(flow, config),
                schedules=[schedule.to_prefect(paused=schedule.key() in kept.schedules)] if schedule else None,
                paused=True if kept.deployment else None,
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
    for deployment in build_deployments(config, settings, work_pool=True, paused=paused_on_server()):
        ids[f"{deployment.flow_name}/{deployment.name}"] = str(deployment.apply(work_pool_name=settings.work_pool.name))
    declare_alerts(settings.alerts)
    return ids


# -- alerts ---------------------------------------------------------------------------------------
ALERT_BLOCK = "salad-alerts"  # the webhook block made from AlertSettings.webhook_url
REGENERATION_ALERT = "salad: regeneration failed or crashed"
QUARANTINE_ALERT = "salad: quarantine rate above threshold"


def alert_automations(block_id=None) -> list:
    """The automations declared with the deployments: a regeneration run that fails or crashes, and a
    stage whose quarantine rate passed its threshold (tasks/alerts.py emits that event). They notify
    the block ``block_id``; without one they still fire, and show in the UI's event feed."""
    from prefect.automations import Automation
    from prefect.events.actions import DoNothing, SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

    from deployments.regenerate import regenerate_flow
    from tasks.alerts import QUARANTINE_RATE_EVENT

    def notify(subject: str, body: str) -> list:
        return [SendNotification(block_document_id=block_id, subject=subject, body=body)] if block_id else [DoNothing()]

    return [
        Automation(
            name=REGENERATION_ALERT,
            description="A data regeneration run (scheduled or manual) ended Failed or Crashed.",
            trigger=EventTrigger(
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={"prefect.resource.role": "flow", "prefect.resource.name": regenerate_flow.name},
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=notify(
                "SALAD regeneration {{ flow_run.name }} ended {{ flow_run.state.name }}",
                "Flow run {{ flow_run.name }} ({{ flow_run.id }}) ended {{ flow_run.state.name }}: {{ flow_run.state.message }}\n{{ flow_run|ui_url }}",
            ),
        ),
        Automation(
            name=QUARANTINE_ALERT,
            description="A stage quarantined more of its rows than its threshold allows.",
            trigger=EventTrigger(
                expect={QUARANTINE_RATE_EVENT},
                match={"prefect.resource.id": "salad.artifact.*"},
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=notify(
                "SALAD: stage {{ event.payload.stage }} quarantined {{ (100 * event.payload.rate)|round(1) }}% of its rows",
                "{{ event.payload.quarantined }} of {{ event.payload.kept + event.payload.quarantined }} rows quarantined "
                "(threshold {{ (100 * event.payload.threshold)|round(1) }}%); see {{ event.payload.artifact }} "
                "(salad quarantine list)",
            ),
        ),
    ]


def declare_alerts(settings: AlertSettings) -> dict[str, str]:
    """Create or replace the alert automations on the server of ``$PREFECT_API_URL``; a person's
    disabling of one in the UI is kept. Returns {automation name: id}."""
    from prefect.automations import Automation
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.blocks.core import Block

    block_id = None
    url = os.environ.get("SALAD_ALERT_WEBHOOK") or settings.webhook_url
    if url:
        block = CustomWebhookNotificationBlock(name="SALAD alert", url=url, json_data={"subject": "{{subject}}", "body": "{{body}}", "source": "{{name}}"})
        block_id = block.save(ALERT_BLOCK, overwrite=True)
    elif settings.notification_block:
        block_id = Block.load(settings.notification_block)._block_document_id
    ids = {}
    for automation in alert_automations(block_id):
        try:
            existing = Automation.read(name=automation.name)
        except ValueError:
            existing = None
        if existing is not None:
            automation.enabled = existing.enabled
            existing.delete()
        ids[automation.name] = str(automation.create().id)
    return ids
