"""The pipeline configuration: presets, overrides, strict keys with a suggestion, training presets."""

from __future__ import annotations

import pytest

from flows.config import UnknownConfigKey, load_config


@pytest.mark.parametrize(
    ("override", "suggestion"),
    [
        ("ingest.min_int_scor=3", "ingest.min_int_score"),  # the careful user's typo: it used to run with no filter
        ("stage1.stepz=3", "stage1.steps"),
        ("speech.kind=folder", "natural_speech"),  # the section's old name
        ("tts.tts.backnd=kokoro", "tts.tts.backend"),
        ("store.timeout=3", None),
    ],
)
def test_an_unknown_key_is_refused_naming_it_and_the_closest_known_one(override, suggestion):
    with pytest.raises(UnknownConfigKey) as err:
        load_config("tiny", [override])
    message = str(err.value)
    assert f"unknown config key '{override.partition('=')[0].removesuffix('.kind')}'" in message
    if suggestion:
        assert f"did you mean {suggestion!r}" in message


def test_training_sections_start_from_the_preset_and_keys_refine_them():
    tiny = load_config("tiny", ["stage1.steps=30"])
    assert tiny.stage1.steps == 30 and tiny.stage1.stage == 1 and [m.name for m in tiny.stage1.mixture] == ["natural", "text"]
    assert tiny.stage2.stage == 2 and [m.name for m in tiny.stage2.mixture] == ["natural", "synthetic", "text"]
    b3, b7 = load_config("3b"), load_config("7b")
    assert (b3.stage1.lr_adapter, b3.stage1.lr_llm, b3.stage1.max_positions) == (1e-3, 5e-5, 2048)
    assert (b7.stage1.lr_adapter, b7.stage1.lr_llm) == (1e-4, 5e-6)


def test_7b_states_only_what_differs_from_3b():
    b3, b7 = load_config("3b"), load_config("7b")
    assert b7.teacher.path == "Qwen/Qwen2.5-7B" and b3.teacher.path == "Qwen/Qwen2.5-3B"
    assert b7.embed == b3.embed and b7.cluster == b3.cluster and b7.selection == b3.selection and b7.preset == "7b"


def test_list_items_are_overridden_by_index_and_a_bad_index_is_named():
    cfg = load_config("tiny", ["evaluation.benchmarks.0.n_items=28"])
    assert cfg.evaluation.benchmarks[0].n_items == 28
    with pytest.raises(ValueError, match="'3' is not an index of a list of 1 item"):
        load_config("tiny", ["evaluation.benchmarks.3.n_items=28"])
