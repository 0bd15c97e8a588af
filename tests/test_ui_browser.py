"""The Prefect UI in headless Chromium: the project's deployments, and a flow run's lineage artifact.

Chromium comes from the system packages (``apt-get install chromium``; ``make test`` installs
it). Pages are loaded with a virtual-time budget so the single-page app has rendered before the
DOM is dumped. Screenshots are checked for size here; with ``SALAD_UPDATE_SCREENSHOTS=1`` they
are also written to ``docs/ui-*.png`` (the README's pictures):

    SALAD_UPDATE_SCREENSHOTS=1 bash tests/run_tests.sh tests/test_ui_browser.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from deployments.registry import DEPLOYABLES
from tests.prefect_server import REPO, SaladUi, release_salad_ui, shared_salad_ui

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DOCS = REPO / "docs"
MAX_PNG_BYTES = 300_000


@pytest.fixture(scope="session")
def ui(tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: apt-get install -y --no-install-recommends chromium (make test installs it)")
    ui = shared_salad_ui(tmp_path_factory)
    yield ui
    release_salad_ui()


def chromium(url: str, *args: str) -> subprocess.CompletedProcess:
    """One headless page load; flags keep it offline, quiet and in a throwaway profile."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--window-size=1400,900", "--hide-scrollbars",
            *args, url,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"chromium failed on {url}:\n{done.stderr[-2000:]}"
    return done


def page(url: str) -> str:
    return chromium(url, "--dump-dom").stdout


def screenshot(url: str, name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    chromium(url, f"--screenshot={path}")
    size = path.stat().st_size
    assert 20_000 < size < MAX_PNG_BYTES, f"{name}: {size} bytes (blank page, or too large for the docs)"
    if os.environ.get("SALAD_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS / name)
    return path


def test_deployments_page_lists_the_project_deployments(ui: SaladUi, tmp_path: Path):
    url = f"{ui.url}/v2/deployments"
    html = page(url)
    for item in DEPLOYABLES:
        flow_name = item.load_flow().name
        assert f">{item.name}<" in html and flow_name in html, f"deployment {flow_name}/{item.name} not on the page"
    screenshot(url, "ui-deployments.png", tmp_path)


def test_flow_run_artifacts_show_the_lineage(ui: SaladUi, tmp_path: Path):
    run_id = pipeline_run_with_lineage(ui)
    url = f"{ui.url}/v2/runs/flow-run/{run_id}?tab=Artifacts"
    html = page(url)
    for key in ("salad-lineage", "salad-corpus", "salad-teacher"):
        assert key in html, f"artifact {key} not on the flow run's Artifacts tab"
    screenshot(url, "ui-flow-run-artifacts.png", tmp_path)

    [lineage] = ui.api.artifacts(flow_run_id=run_id, key="salad-lineage")
    url = f"{ui.url}/v2/artifacts/artifact/{lineage['id']}"
    html = page(url)
    assert "salad-pipeline: lineage" in html and "corpus@" in html and "teacher@" in html
    screenshot(url, "ui-lineage.png", tmp_path)


def test_what_changed_report_renders(ui: SaladUi, tmp_path: Path):
    reports = ui.api.artifacts(key="salad-what-changed")
    if not reports:
        run = ui.api.run_deployment("salad-regenerate", "regenerate")
        assert ui.api.wait(run["id"])["state_type"] == "COMPLETED"
        reports = ui.api.artifacts(key="salad-what-changed")
    report = next((r for r in reports if "| new version |" in r["data"]), reports[0])
    url = f"{ui.url}/v2/artifacts/artifact/{report['id']}"
    html = page(url)
    assert "What changed" in html and "corpus" in html
    screenshot(url, "ui-what-changed.png", tmp_path)


def pipeline_run_with_lineage(ui: SaladUi) -> str:
    """A completed pipeline run that published the lineage overview (the deployment tests make some)."""
    for artifact in ui.api.artifacts(key="salad-lineage"):
        run = ui.api.flow_run(artifact["flow_run_id"])
        if run["state_type"] == "COMPLETED":
            return run["id"]
    run = ui.api.run_deployment("salad-pipeline", "pipeline")
    assert ui.api.wait(run["id"])["state_type"] == "COMPLETED"
    return run["id"]
