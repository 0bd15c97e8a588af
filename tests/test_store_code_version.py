"""Code versions derived from what a stage imports: edits inside the closure count, others do not.

Works on a temporary copy of a small fake package tree (nothing is imported). Run with:
    .venv/bin/python -m pytest tests/test_store_code_version.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.code_version import REPO_ROOT, code_bytes, module_closure, module_code_version

TREE = {
    "salad_core/__init__.py": "",
    "salad_core/mimi/__init__.py": "from salad_core.mimi.tokenizer import encode\n",
    "salad_core/mimi/tokenizer.py": "import numpy\nfrom . import frames\n\ndef encode(x):\n    return frames.split(x)\n",
    "salad_core/mimi/frames.py": "def split(x):\n    from ..audio import load  # a lazy import counts too\n    return load(x)\n",
    "salad_core/audio/__init__.py": "from salad_core.audio.decode import load\n",
    "salad_core/audio/decode.py": "import salad_core.audio.cycle\n\ndef load(x):\n    return x\n",
    "salad_core/audio/cycle.py": "from salad_core.audio import decode  # a cycle: decode -> cycle -> decode\n",
    "salad_core/clustering/__init__.py": "",
    "salad_core/clustering/report.py": "import salad_core.clustering.plot\nFIGURE = 'bar'\n",
    "salad_core/clustering/plot.py": "STYLE = 1\n",
    "salad_core/unrelated.py": "X = 1\n",
    "tasks/__init__.py": "",
    "tasks/tokenize.py": "import os\nfrom salad_core.mimi import encode\nfrom salad_core.clustering.report import FIGURE\nfrom tasks.helpers import *\n",
    "tasks/helpers.py": "Y = 2\n",
    "flows/pipeline.py": "import tasks.tokenize\n",
}


@pytest.fixture
def tree(tmp_path) -> Path:
    for rel, text in TREE.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def version(tree: Path) -> str:
    return module_code_version("tokenize-2", "tasks.tokenize", exclude=["salad_core.clustering.report"], root=tree)


def test_closure_follows_imports_transitively_through_cycles(tree):
    files = {p.relative_to(tree).as_posix() for p in module_closure(["tasks.tokenize"], exclude=["salad_core.clustering.report"], root=tree)}
    assert files == {
        "salad_core/__init__.py", "salad_core/mimi/__init__.py", "salad_core/mimi/tokenizer.py", "salad_core/mimi/frames.py",
        "salad_core/audio/__init__.py", "salad_core/audio/decode.py", "salad_core/audio/cycle.py",
        "tasks/__init__.py", "tasks/tokenize.py", "tasks/helpers.py",
    }  # fmt: skip


@pytest.mark.parametrize(
    "edited",
    ["tasks/tokenize.py", "salad_core/mimi/frames.py", "salad_core/audio/cycle.py", "salad_core/mimi/__init__.py", "tasks/helpers.py"],
)
def test_editing_a_module_in_the_closure_changes_the_version(tree, edited):
    before = version(tree)
    with open(tree / edited, "a") as f:
        f.write("EDITED = 1\n")
    assert version(tree) != before and version(tree).startswith("tokenize-2+")


@pytest.mark.parametrize(
    "edited",
    ["salad_core/unrelated.py", "salad_core/clustering/report.py", "salad_core/clustering/plot.py", "flows/pipeline.py"],
    ids=["unrelated", "excluded", "only-imported-by-excluded", "outside-the-packages"],
)
def test_editing_a_module_outside_the_closure_keeps_the_version(tree, edited):
    before = version(tree)
    with open(tree / edited, "a") as f:
        f.write("EDITED = 1\n")
    assert version(tree) == before


def test_the_explicit_version_string_still_forces_a_bump(tree):
    assert version(tree).split("+")[1] == module_code_version("tokenize-3", "tasks.tokenize", exclude=["salad_core.clustering.report"], root=tree).split("+")[1]
    assert version(tree) != module_code_version("tokenize-3", "tasks.tokenize", exclude=["salad_core.clustering.report"], root=tree)


def test_a_moved_module_changes_the_version(tree):
    before = version(tree)
    (tree / "salad_core/audio/decode.py").rename(tree / "salad_core/audio/decoding.py")
    (tree / "salad_core/audio/__init__.py").write_text("from salad_core.audio.decoding import load\n")
    (tree / "salad_core/audio/cycle.py").write_text("from salad_core.audio import decode  # a cycle: decode -> cycle -> decode\n")
    assert version(tree) != before


def test_unknown_or_excluded_stage_modules_are_refused(tree):
    with pytest.raises(ValueError, match=r"'tasks.nope' has no source file under .* \(expected tasks/nope.py"):
        module_code_version("x-1", "tasks.nope", root=tree)
    with pytest.raises(ValueError, match="both asked for and excluded"):
        module_code_version("x-1", "tasks.tokenize", exclude=["tasks"], root=tree)


def test_the_real_tokenize_stage_depends_on_the_mimi_and_audio_code():
    files = {p.relative_to(REPO_ROOT).as_posix() for p in module_closure(["tasks.tokenize"])}
    assert "salad_core/mimi/tokenizer.py" in files and "salad_core/audio/decode.py" in files
    assert not any(f.startswith(("flows/", "deployments/", "salad_core/clustering/")) for f in files)


def test_comments_docstrings_and_layout_make_no_new_version(tree):
    before = version(tree)
    path = tree / "salad_core/mimi/tokenizer.py"
    original = path.read_text()
    path.write_text('"""A docstring added."""\n# a comment\n' + original.replace("\n", "\n\n"))
    assert version(tree) == before
    path.write_text(original + "def f():\n    'its docstring'\n    return 1\n")
    changed = version(tree)
    assert changed != before
    path.write_text(original + "def f():\n    '''another docstring, reworded'''  # and a comment\n\n    return 1\n")
    assert version(tree) == changed
    path.write_text(original + "def f():\n    return 2\n")  # what runs changed
    assert version(tree) != changed


def test_a_file_that_does_not_parse_counts_byte_for_byte(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    assert code_bytes(broken) == b"def f(:\n"
    data = tmp_path / "table.csv"
    data.write_text("# not python\n")
    assert code_bytes(data) == b"# not python\n"
