"""Every stage config in salad_core refuses keys it does not know: `ingest.min_int_scor=3` (a typo)
must fail naming the key, not run a full ingest with no filter.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/bad_input/test_configs.py -q
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

import salad_core

ROOT = Path(salad_core.__file__).parent
OWNED_ELSEWHERE = {"training", "selection", "evaluation"}  # their configs are checked by their own tests
MINIMAL = {  # the fields a class needs to be built at all
    "SpeechSourceConfig": {"folder": "clips"},
    "AdapterConfig": {"n_layer": 1, "width": 8, "mlp": 16, "n_head": 2, "n_kv_head": 1, "llm_hidden": 8},
}


def config_classes() -> list[type[BaseModel]]:
    found = []
    for path in sorted([*ROOT.rglob("config.py"), *ROOT.rglob("*_config.py")]):
        if OWNED_ELSEWHERE & set(path.relative_to(ROOT).parts):
            continue
        module = importlib.import_module(".".join(("salad_core", *path.relative_to(ROOT).with_suffix("").parts)))
        found += [c for _, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, BaseModel) and c.__module__ == module.__name__]
    return found


CLASSES = config_classes()


def test_the_config_classes_are_found():
    names = {c.__name__ for c in CLASSES}
    assert {"IngestConfig", "SpeechSourceConfig", "MimiConfig", "TeacherConfig", "TTSConfig", "EmbedConfig", "ClusterConfig"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_an_unknown_key_is_refused_naming_it(cls):
    known = MINIMAL.get(cls.__name__, {})
    cls.model_validate(known)  # valid without the typo
    with pytest.raises(ValidationError) as err:
        cls.model_validate({**known, "min_int_scor": 3})
    (problem,) = err.value.errors()
    assert problem["type"] == "extra_forbidden" and problem["loc"] == ("min_int_scor",)
