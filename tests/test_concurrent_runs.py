"""Two runs of the same stages on one store at the same time (two `make demo` a few seconds apart):
both succeed with the same versions, each with its quarantine, and they share the work — every
shard is committed once, by one of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import ArtifactStore

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_two_concurrent_runs_share_the_work_and_both_succeed(tmp_path):
    uri = str(tmp_path / "store")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, str(REPO / "tests" / "concurrent_stage_child.py"), uri, "800"]
    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)  # the second starts while the first is part-way
    second = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outputs = []
    for child in (first, second):
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    a, b = outputs
    assert (a["corpus"], a["quarantine"], a["embeddings"]) == (b["corpus"], b["quarantine"], b["embeddings"])
    store = ArtifactStore.open(uri)
    embeddings = store.get(a["embeddings"])
    shards = len(embeddings.manifest.shards)
    # every shard computed and written exactly once between them: a shard the other run had claimed
    # was waited for, not computed again
    assert sorted(a["written"] + b["written"]) == list(range(shards))
    assert sorted(a["computed"] + b["computed"]) == list(range(shards)), (a["computed"], b["computed"])
    assert embeddings.num_rows == store.get(a["corpus"]).num_rows
    assert store.verify().damaged == []
