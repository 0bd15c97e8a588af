"""Scratch folders of dead processes are cleaned; a live process's are kept."""

from __future__ import annotations

import os
import subprocess
import sys

from tasks.scratch import clean_scratch, scratch_folder


def test_clean_scratch_removes_only_folders_of_processes_that_are_gone(tmp_path, monkeypatch):
    monkeypatch.setenv("SALAD_SCRATCH", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    leftover = tmp_path / f"{dead}-mimi-abc"
    leftover.mkdir()
    (leftover / "fitted.safetensors").write_bytes(b"x" * 1024)
    with scratch_folder("mimi") as live:
        assert os.path.basename(live).startswith(f"{os.getpid()}-mimi-")
        assert clean_scratch() == [leftover]
        assert os.path.isdir(live) and not leftover.exists()
