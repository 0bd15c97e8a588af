"""Alerts a run raises as Prefect events; the automations declared with the deployments
(deployments/registry.py ``alert_automations``) turn them into notifications.

    from tasks.alerts import report_quarantine_rate
    report_quarantine_rate("ingest", corpus_quarantine_ref, kept=950, quarantined=50, threshold=0.02)

An event, not a notification sent from here: where it goes (a webhook, Slack, e-mail, nowhere)
is the operator's choice in Prefect, and the UI's event feed shows every one of them.
"""

from __future__ import annotations

import logging

from storage import ArtifactRef

QUARANTINE_RATE_EVENT = "salad.quarantine-rate.exceeded"
DEFAULT_QUARANTINE_RATE_THRESHOLD = 0.05  # a stage that sets aside more than 5% of its rows is worth a look


def quarantine_rate(kept: int, quarantined: int) -> float:
    """Share of a stage's rows set aside (`quarantined` of `kept` + `quarantined`); 0.0 when there were no rows."""
    total = kept + quarantined
    return quarantined / total if total else 0.0


def report_quarantine_rate(stage: str, artifact: ArtifactRef, kept: int, quarantined: int, threshold: float = DEFAULT_QUARANTINE_RATE_THRESHOLD):
    """Emit ``salad.quarantine-rate.exceeded`` when the stage quarantined more than ``threshold`` of
    its rows; returns the event (None under the threshold, or with events off)."""
    rate = quarantine_rate(kept, quarantined)
    if rate <= threshold:
        return None
    from prefect.events import emit_event

    logging.getLogger("salad.alerts").warning(
        "stage %s quarantined %d of %d rows (%.1f%% > %.1f%%): see %s", stage, quarantined, kept + quarantined, 100 * rate, 100 * threshold, artifact
    )
    return emit_event(
        event=QUARANTINE_RATE_EVENT,
        resource={
            "prefect.resource.id": f"salad.artifact.{artifact.name}.{artifact.fingerprint}",
            "prefect.resource.name": str(artifact),
            "salad.stage": stage,
        },
        payload={"stage": stage, "artifact": str(artifact), "kept": kept, "quarantined": quarantined, "rate": rate, "threshold": threshold},
    )


def alert_threshold() -> float:
    """$SALAD_QUARANTINE_ALERT_RATE, else DEFAULT_QUARANTINE_RATE_THRESHOLD."""
    import os

    value = os.environ.get("SALAD_QUARANTINE_ALERT_RATE")
    try:
        return float(value) if value else DEFAULT_QUARANTINE_RATE_THRESHOLD
    except ValueError:
        raise ValueError(f"$SALAD_QUARANTINE_ALERT_RATE = {value!r} is not a number (a share of rows, e.g. 0.05)") from None


def check_quarantine_rate(stage: str, quarantine: ArtifactRef, kept: int, quarantined: int) -> None:
    """Called by every stage that commits a quarantine: emits the event inside a Prefect run; an
    alert that cannot be sent is logged, never fails the stage."""
    from tasks.publish import in_prefect_run

    if not in_prefect_run():
        return
    try:
        report_quarantine_rate(stage, quarantine, kept, quarantined, alert_threshold())
    except Exception as exc:  # noqa: BLE001 - the data is committed; a lost alert must not undo the stage
        logging.getLogger("salad.alerts").warning("quarantine-rate alert for %s not sent: %s", stage, exc)
