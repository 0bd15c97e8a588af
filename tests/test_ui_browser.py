"""The Prefect UI that ``salad ui up`` serves, in real headless Chromium, as a data engineer meets it.

One ``salad ui up`` (real Prefect server, deployments, process worker on 127.0.0.1) and one
Chromium for the whole module, driven over the DevTools protocol (``--remote-debugging-port``,
the ``websockets`` client Prefect already depends on): pages are opened at the root UI (the one
``salad ui up`` prints, not ``/v2``) and their rendered text and DOM are read once the single-page
app has drawn them. Checked: the deployments page, the stage deployment's run form, the lineage
image, the what-changed report, a progress artifact of a stage held mid-run, no task run left
Running after a killed and retried run, the catalog's stale flag after one changed parameter,
and a schedule paused in the UI still paused after ``salad ui down && salad ui up``.

Chromium comes from the system packages (``apt-get install chromium``; ``make test`` installs
it). Screenshots (1400 px wide) are checked for size; with ``SALAD_SCREENSHOTS=docs`` they are
also written to ``docs/ui-*.png`` (the README's and docs/operations.md's pictures;
``SALAD_UPDATE_SCREENSHOTS=1`` is the older spelling):

    SALAD_SCREENSHOTS=docs bash tests/run_tests.sh tests/test_ui_browser.py
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from deployments.registry import DEPLOYABLES
from deployments.server import free_port
from tests.prefect_server import REPO, SaladUi, flow_run_pids, kill_flow_run
from tests.test_deployments_e2e import wait_for

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DOCS = REPO / "docs"
WIDTH, HEIGHT = 1400, 900
MAX_PNG_BYTES = 400_000


class Browser:
    """One headless Chromium and one tab, over the DevTools protocol."""

    def __init__(self):
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="salad-chromium-")
        command = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            f"--user-data-dir={self.profile}", f"--window-size={WIDTH},{HEIGHT}", "--remote-debugging-port=0", "about:blank",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        active = Path(self.profile) / "DevToolsActivePort"
        wait_for(lambda: active.exists() and len(active.read_text().split()) == 2, "Chromium's DevTools port", timeout=60, every=0.1)
        port, path = active.read_text().split()
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30)
        self.ids = itertools.count(1)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if method.split(".")[0] not in ("Target", "Browser"):
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:  # events of the page arrive in between; only the answer counts
            answer = json.loads(self.ws.recv(timeout=60))
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, ready: str, timeout: float = 60) -> str:
        """Load ``url`` and wait until the page's text contains ``ready``; returns that text."""
        self.call("Page.navigate", url=url)
        return self.wait_text(ready, timeout, url)

    def tab(self, tab_id: str, *ready: str) -> str:
        """Click a tab of the page (Prefect's ``li.p-tab#<id>``) and wait for every ``ready`` string in its text."""
        self.wait_js(f"document.querySelector('li.p-tab#{tab_id}') !== null", f"the {tab_id} tab")
        self.js(f"document.querySelector('li.p-tab#{tab_id}').click()")
        return self.wait_text(ready, 30, f"the {tab_id} tab")

    def text(self) -> str:
        return self.js("document.body ? document.body.innerText : ''") or ""

    def wait_text(self, ready: str | tuple[str, ...], timeout: float = 60, what: str = "") -> str:
        """The page's text once it holds `ready` (every one of them: cards of a list render one by one)."""
        wanted = (ready,) if isinstance(ready, str) else ready
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if all(w in text for w in wanted):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{what or 'page'}: {ready!r} not shown within {timeout:.0f}s; the page reads:\n{text[:3000]}")
            time.sleep(0.25)

    def wait_js(self, expression: str, what: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := self.js(expression)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not within {timeout:.0f}s; the page reads:\n{self.text()[:3000]}")
            time.sleep(0.25)
        return value

    def screenshot(self, name: str, tmp_path: Path) -> Path:
        time.sleep(0.5)  # transitions (tab underline, progress bar) settle
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        path = tmp_path / name
        path.write_bytes(png)
        assert png[16:24] == WIDTH.to_bytes(4, "big") + HEIGHT.to_bytes(4, "big"), f"{name}: not {WIDTH}x{HEIGHT}"
        assert 20_000 < len(png) < MAX_PNG_BYTES, f"{name}: {len(png)} bytes (blank page, or too large for the docs)"
        if os.environ.get("SALAD_SCREENSHOTS") == "docs" or os.environ.get("SALAD_UPDATE_SCREENSHOTS") == "1":  # the older name
            DOCS.mkdir(exist_ok=True)
            shutil.copyfile(path, DOCS / name)
        return path

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui-browser")
    ui = SaladUi(home=root / "home", store=root / "store", port=free_port())
    ui.up()
    try:
        yield ui
    finally:
        ui.release_holds()
        ui.down()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: apt-get install -y --no-install-recommends chromium (make test installs it)")
    browser = Browser()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def regeneration(ui: SaladUi) -> str:
    """A regeneration with the deployment's defaults: the pipeline (a subflow) and the what-changed report."""
    run = ui.api.run_deployment("salad-regenerate", "regenerate")
    assert ui.api.wait(run["id"])["state_type"] == "COMPLETED", ui.api.logs(run["id"])[-20:]
    return run["id"]


def deployment_url(ui: SaladUi, flow: str, name: str) -> str:
    return f"{ui.url}/deployments/deployment/{ui.api.deployment(flow, name)['id']}"


def test_deployments_page_lists_the_project_deployments(ui: SaladUi, browser: Browser, tmp_path: Path):
    browser.open(f"{ui.url}/deployments", "regenerate")
    for item in DEPLOYABLES:
        flow_name = item.load_flow().name
        text = browser.wait_text((flow_name, item.name), 20, f"deployment {flow_name}/{item.name}")  # rows draw one by one
        assert item.name in text.split(), f"deployment {flow_name}/{item.name} not on the page:\n{text}"
    browser.screenshot("ui-deployments.png", tmp_path)


def test_the_stage_deployments_run_form_asks_for_the_stage_and_its_parents(ui: SaladUi, browser: Browser):
    browser.open(deployment_url(ui, "salad-stage", "stage") + "/run", "parents (Optional)")
    # the form's fields, from stage_flow's parameters: the stage as a drop-down (default cluster), the parents as JSON
    fields = browser.wait_js(
        "(() => { const f = {}; for (const p of document.querySelectorAll('.schema-form-property')) {"
        " const label = p.querySelector('.p-label__label'); const name = label && label.innerText.split(' ')[0];"
        " if (name && !(name in f)) { const s = p.querySelector('select');"
        " f[name] = s ? {value: s.value, options: [...s.options].map(o => o.value)} : {text: p.innerText} } }"
        " return f.parents && f.parents.text.includes('{}') ? f : null })()",
        "the run form's fields, the parents field showing its default {}",
    )
    assert {"stage", "parents", "config"} <= set(fields), f"fields of the stage deployment's run form: {list(fields)}"
    assert fields["stage"]["value"] == "cluster", fields["stage"]
    assert {"ingest", "embed", "cluster", "tokenizer", "teacher"} <= set(fields["stage"]["options"]), fields["stage"]
    assert "{}" in fields["parents"]["text"], fields["parents"]


def test_the_lineage_artifact_shows_a_rendered_image(ui: SaladUi, browser: Browser, regeneration, tmp_path: Path):
    [pipeline] = ui.api.subflow_runs(regeneration)
    browser.open(f"{ui.url}/runs/flow-run/{pipeline['id']}", "Artifacts")
    # each artifact card draws its description on its own: wait for the ones checked, not the first card
    # (a loaded run read the list with the newest cards still undescribed)
    text = browser.tab("artifacts", "salad-catalog", "salad-lineage", "salad-pipeline: artifacts and their lineage")
    assert "salad-lineage" in text and "salad-pipeline: artifacts and their lineage" in text, text
    browser.screenshot("ui-flow-run-artifacts.png", tmp_path)

    [lineage] = ui.api.artifacts(flow_run_id=pipeline["id"], key="salad-lineage")
    text = browser.open(f"{ui.url}/artifacts/artifact/{lineage['id']}", "salad-pipeline: lineage")
    assert "corpus@" in text and "teacher@" in text and "→ see above" in text, text
    size = browser.wait_js(
        "(() => { const i = [...document.images].find(i => i.src.startsWith('data:image/png;base64,'));"
        " return i && i.complete && i.naturalWidth > 0 ? [i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width] : null })()",
        "the lineage PNG (an <img> with a data: URI) loaded",
    )
    assert size[0] > 200 and size[1] > 100 and size[2] > 200, f"lineage image {size} (natural width, height; drawn width)"
    assert "flowchart" not in text.split("mermaid source")[0], "mermaid text shown above the image"
    browser.js("[...document.images].find(i => i.src.startsWith('data:')).scrollIntoView({block: 'center'})")
    browser.screenshot("ui-lineage.png", tmp_path)


def test_the_what_changed_report_renders(ui: SaladUi, browser: Browser, regeneration, tmp_path: Path):
    [report] = ui.api.artifacts(flow_run_id=regeneration, key="salad-what-changed")
    text = browser.open(f"{ui.url}/artifacts/artifact/{report['id']}", "What changed")
    assert "corpus" in text and "teacher" in text and "new artifact" in text, text
    browser.screenshot("ui-what-changed.png", tmp_path)


@pytest.fixture(scope="module")
def held_run(ui: SaladUi) -> dict[str, Any]:
    """A run of the tts deployment (ingest, synthesis, gate; a flow-run subprocess of the worker) with the
    corpus in 6 shards of 50 rows instead of the deployment's 1 (one changed parameter: a new corpus
    version), held right after committing corpus shard 1."""
    params = ui.api.deployment("salad-tts", "tts")["parameters"]
    assert params["ingest"]["bundled_docs"] == 300 and params["ingest"]["shard_rows"] != 50, params["ingest"]
    params["ingest"]["shard_rows"] = 50
    held = ui.hold_after("corpus", 1)
    run_id = ui.api.run_deployment("salad-tts", "tts", params)["id"]
    pids = wait_for(lambda: flow_run_pids(run_id), "the flow run's process", every=0.1)
    wait_for(held.exists, "the run held after corpus shard 1", every=0.05)
    return {"id": run_id, "pids": pids, "finished": False}


def kill_and_retry(ui: SaladUi, held: dict[str, Any]) -> str:
    """Kill the held run (-9, as an OOM kill), then Retry it as the flow run page's button does, to completion."""
    run_id = held["id"]
    if not held["finished"]:
        kill_flow_run(run_id, held["pids"])
        ui.release_holds()
        assert ui.api.wait(run_id)["state_type"] == "CRASHED"
        ui.wait_worker_done()
        ui.api.retry_until_running(run_id)
        assert ui.api.wait(run_id)["state_type"] == "COMPLETED", ui.api.logs(run_id)[-20:]
        held["finished"] = True
    return run_id


def test_a_long_stage_shows_its_progress_while_it_runs(ui: SaladUi, browser: Browser, held_run, tmp_path: Path):
    assert ui.api.flow_run(held_run["id"])["state_type"] == "RUNNING"
    [progress] = ui.api.artifacts(flow_run_id=held_run["id"], key="salad-corpus-progress")
    text = browser.open(f"{ui.url}/artifacts/artifact/{progress['id']}", "2/6 shards")
    # held right after shard 1's commit, which the stage publishes first: 2 of 6, not the 100% of a finished run
    assert "corpus@" in text and "2/6 shards" in text and "rows" in text, text
    percent = browser.wait_js(
        "(() => { const e = document.querySelector('.artifact-data-progress'); const m = e && e.innerText.match(/([0-9.]+)%/); return m && m[1] })()",
        "the progress artifact's percentage",
    )
    assert 30 < float(percent) < 36, f"progress {percent}% while held after shard 1 of 6 (shards 0 and 1 committed):\n{text}"
    browser.screenshot("ui-progress.png", tmp_path)


def test_a_killed_and_retried_run_shows_no_running_task_run(ui: SaladUi, browser: Browser, held_run):
    run_id = kill_and_retry(ui, held_run)

    deadline = time.monotonic() + 60  # `salad ui up`'s reconciler ends the killed attempt's task run within ~10 s
    while True:
        browser.open(f"{ui.url}/runs/flow-run/{run_id}", "Task Runs")
        text = browser.tab("task-runs", "Task runs")
        states = browser.wait_js(
            "(() => { const s = [...document.querySelectorAll('.state-list-item .state-badge')].map(e => e.innerText.trim()); return s.length ? s : null })()",
            "the task runs listed on the flow run's Task Runs tab",
        )
        if "Running" not in states and "Pending" not in states:
            break
        assert time.monotonic() < deadline, f"task runs still {states} on the finished run's page:\n{text}"
        time.sleep(3)
    # the killed attempt's task run, ended by the reconciliation, and the retry's
    assert "Crashed" in states and "Completed" in states, f"task runs shown: {states}\n{text}"


def test_the_catalog_flags_what_a_changed_parameter_made_stale(ui: SaladUi, browser: Browser, regeneration, held_run, tmp_path: Path):
    """The regeneration built the embeddings on the deployment's corpus; the held run, once retried, committed a
    newer corpus version (shard_rows 50) and published the catalog: the embeddings are stale, the corpus is not."""
    run_id = kill_and_retry(ui, held_run)
    [catalog] = ui.api.artifacts(flow_run_id=run_id, key="salad-catalog")
    browser.open(f"{ui.url}/artifacts/artifact/{catalog['id']}", "STALE")
    rows = browser.wait_js(
        "(() => { const r = [...document.querySelectorAll('tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText.trim()));"
        " return r.filter(c => c.length).length ? r.filter(c => c.length) : null })()",
        "the catalog table's rows",
    )
    by_name = {cells[0]: cells for cells in rows}
    assert "STALE" in by_name.get("embeddings", []), f"embeddings not flagged stale: {by_name.get('embeddings')}\n{rows}"
    assert "corpus" in " ".join(by_name["embeddings"]), f"no reason given: {by_name['embeddings']}"
    assert "STALE" not in by_name.get("corpus", ["STALE"]), f"the newest corpus flagged stale: {by_name.get('corpus')}"
    browser.screenshot("ui-catalog.png", tmp_path)


def test_a_schedule_paused_in_the_ui_is_still_paused_after_down_and_up(ui: SaladUi, browser: Browser):
    url = deployment_url(ui, "salad-regenerate", "regenerate")
    browser.open(url, "Schedules")
    toggle = "document.querySelector('.deployment-schedule-card__action [role=switch]')"
    assert browser.wait_js(f"{toggle} !== null", "the schedule's toggle")
    assert browser.js(f"{toggle}.getAttribute('aria-checked') === 'true'"), "schedule not active at first"
    switch_schedule_off(ui, browser, toggle)

    ui.down()
    ui.up()
    browser.open(url, "Schedules")
    assert browser.wait_js(f"{toggle} !== null", "the schedule's toggle after down and up")
    assert browser.js(f"{toggle}.getAttribute('aria-checked') === 'false'"), f"the schedule is on again after salad ui down && up:\n{browser.text()}"
    assert [s["active"] for s in ui.api.deployment("salad-regenerate", "regenerate")["schedules"]] == [False]


def switch_schedule_off(ui: SaladUi, browser: Browser, toggle: str, timeout: float = 60) -> None:
    """Click the schedule's toggle as a person does, once the UI lets them, until the server has it off.

    The toggle ignores clicks while it is disabled (Prefect's ``p-toggle__control--disabled``: the deployment
    still loading, or the previous change still in flight), and a loaded machine can draw it before it is enabled,
    so the click waits for it. A click is repeated only when the toggle is enabled, still on, and the server still
    has the schedule active: the one state in which an earlier click cannot be in flight (it disables the toggle
    until the server answers), so a repeat can never switch the schedule back on.
    """
    enabled_and_on = f"!{toggle}.classList.contains('p-toggle__control--disabled') && {toggle}.getAttribute('aria-checked') === 'true'"
    active = lambda: ui.api.deployment("salad-regenerate", "regenerate")["schedules"][0]["active"]  # noqa: E731
    clicks, deadline = 0, time.monotonic() + timeout
    while active():
        if time.monotonic() > deadline:
            raise AssertionError(f"the schedule is still on after {clicks} click(s) in {timeout:.0f}s; the page reads:\n{browser.text()[:3000]}")
        if browser.js(enabled_and_on):
            browser.js(f"{toggle}.click()")
            clicks += 1
        time.sleep(0.5)
