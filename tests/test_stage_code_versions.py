"""Every stage's code version follows the code that runs: edit a module the stage imports
(transitively) and its fingerprint changes; edit an unrelated or presentation-only one and it does not.

The edits are made in a copy of the project's packages (module_code_version's `root`), never here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storage.code_version import REPO_ROOT, module_closure, module_code_version
from tasks.sharded_stage import PLUMBING

# (stage module, presentation-only exclusions, a module it must follow, a module it must ignore)
STAGES = {
    "ingest": ("tasks.ingest", (), "salad_core/corpus/row_checks.py", "salad_core/mimi/tokenizer.py"),
    "embed": ("tasks.embed", (), "salad_core/embedding/embedder.py", "salad_core/corpus/row_checks.py"),
    "cluster": ("tasks.cluster", ("salad_core.clustering.report",), "salad_core/clustering/kmeans.py", "salad_core/clustering/report.py"),
    "tokenize": ("tasks.tokenize", (), "salad_core/audio/decode.py", "salad_core/clustering/kmeans.py"),
    "synthesis": ("tasks.tts", ("salad_core.tts.quality", "salad_core.tts.asr"), "salad_core/tts/espeak.py", "salad_core/tts/quality.py"),
    "gate": ("tasks.quality_gate", (), "salad_core/tts/quality.py", "salad_core/embedding/embedder.py"),
    "speech_ingest": ("tasks.speech_ingest", (), "salad_core/alignment/ctc_viterbi.py", "salad_core/clustering/kmeans.py"),
    "teacher": ("tasks.teacher", (), "salad_core/teacher/pretraining.py", "salad_core/tts/espeak.py"),
    "text_selection": ("tasks.text_selection", (), "salad_core/selection/speakable.py", "salad_core/mimi/tokenizer.py"),
    "probe": ("tasks.probe", ("salad_core.selection.report",), "salad_core/selection/speakable.py", "salad_core/selection/report.py"),
    "misalignment": ("tasks.misalignment", ("salad_core.selection.report",), "salad_core/objective/distill.py", "salad_core/selection/report.py"),
    "selection": ("tasks.select", ("salad_core.selection.report",), "salad_core/selection/sampler.py", "salad_core/selection/report.py"),
    "eval_items": ("tasks.eval_items", (), "salad_core/evaluation/loaders.py", "salad_core/tts/espeak.py"),
    "evaluate": ("tasks.evaluate", (), "salad_core/evaluation/scorer.py", "salad_core/tts/espeak.py"),
    "train": ("tasks.train_worker", (), "salad_core/objective/distill.py", "salad_core/evaluation/scorer.py"),
}


@pytest.fixture(scope="module")
def copy_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for package in ("salad_core", "storage", "tasks"):
        shutil.copytree(REPO_ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def version(root: Path, module: str, exclude: tuple[str, ...]) -> str:
    return module_code_version("v", module, exclude=(*PLUMBING, *exclude), root=root)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_editing_any_module_a_stage_uses_changes_its_version_and_others_do_not(stage, copy_root):
    module, exclude, follows, ignores = STAGES[stage]
    closure = module_closure([module], exclude=(*PLUMBING, *exclude), root=copy_root)
    relative = {p.relative_to(copy_root).as_posix() for p in closure}
    assert follows in relative and ignores not in relative
    before = version(copy_root, module, exclude)
    for path in closure:  # every module in the closure counts
        original = path.read_bytes()
        path.write_bytes(original + b"\n_EDITED = 1\n")
        try:
            assert version(copy_root, module, exclude) != before, f"editing {path.relative_to(copy_root)} left {stage} unchanged"
        finally:
            path.write_bytes(original)
    unrelated = copy_root / ignores
    original = unrelated.read_bytes()
    unrelated.write_bytes(original + b"\n_EDITED = 1\n")
    try:
        assert version(copy_root, module, exclude) == before
    finally:
        unrelated.write_bytes(original)


def test_the_cluster_figure_is_outside_k_means_but_inside_the_report():
    import tasks.cluster as cluster

    fit = module_closure(["tasks.cluster"], exclude=(*PLUMBING, "salad_core.clustering.report"))
    report = module_closure(["tasks.cluster"], exclude=PLUMBING)
    assert not any(p.name == "report.py" and p.parent.name == "clustering" for p in fit)
    assert any(p.name == "report.py" and p.parent.name == "clustering" for p in report)
    assert cluster.CLUSTER_CODE_VERSION != cluster.REPORT_CODE_VERSION
