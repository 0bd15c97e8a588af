"""Each benchmark's published row layout -> McItem, the way lm-evaluation-harness reads it.

Usage:
    from salad_core.evaluation.formats import PARSERS, detect_format, RowError
    item = PARSERS["arc_hf"](record, benchmark="arc_challenge", index=0)   # or raises RowError(reason)

Text conventions follow lm-evaluation-harness (its task YAMLs / utils) so the text-side scores can
be compared with it: HellaSwag's `preprocess` (strip, " [title]" -> ". ", drop other [markup],
collapse double spaces) on `activity_label: ctx_a Ctx_b` and on each ending; ARC/OBQA answers by
the position of `answerKey` among the choice labels (some ARC rows use 1..4, some have 3 or 5
choices); StoryCloze's `answer_right_ending` is 1-based. Rows without an id get
`<benchmark>-<index>` (index = the row's position among the input files' rows).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from salad_core.evaluation.items import McItem, RowError
from salad_core.evaluation.voicebench import parse_voicebench


def _text(record: dict, key: str) -> str:
    value = record.get(key)
    if value is None:
        raise RowError(f"missing field {key!r}")
    if not isinstance(value, str):
        raise RowError(f"field {key!r} is {type(value).__name__}, not text")
    return value


def _answer_index(labels: list, key, benchmark: str) -> int:
    if key is None or str(key).strip() == "":
        raise RowError("missing answer (answerKey)")
    key = str(key).strip()
    labels = [str(label).strip() for label in labels]
    if key not in labels:
        raise RowError(f"answer out of range: answerKey {key!r} is not among the labels {labels}")
    return labels.index(key)


def parse_arc_hf(record: dict, benchmark: str, index: int) -> McItem:
    """ARC / OpenBookQA on the Hugging Face hub: question (OBQA: question_stem), choices{text,label}, answerKey."""
    question = _text(record, "question_stem" if "question_stem" in record else "question")
    choices = record.get("choices")
    if not isinstance(choices, dict) or not choices.get("text"):
        raise RowError("missing options (choices.text)")
    texts, labels = list(choices["text"]), list(choices.get("label") or [])
    if len(labels) != len(texts):
        raise RowError(f"{len(texts)} choice texts but {len(labels)} labels")
    return McItem(
        id=str(record.get("id") or f"{benchmark}-{index}"),
        benchmark=benchmark,
        context="",
        question=question,
        options=tuple(texts),
        answer=_answer_index(labels, record.get("answerKey"), benchmark),
    )


def parse_arc_original(record: dict, benchmark: str, index: int) -> McItem:
    """The original ARC / OBQA JSONL: question{stem, choices[{text, label}]}, answerKey."""
    question = record.get("question")
    if not isinstance(question, dict):
        raise RowError("missing field 'question' (an object with stem and choices)")
    stem = _text(question, "stem")
    choices = question.get("choices")
    if not isinstance(choices, list) or not choices:
        raise RowError("missing options (question.choices)")
    if not all(isinstance(c, dict) and "text" in c and "label" in c for c in choices):
        raise RowError("a choice lacks text or label")
    return McItem(
        id=str(record.get("id") or f"{benchmark}-{index}"),
        benchmark=benchmark,
        context="",
        question=stem,
        options=tuple(str(c["text"]) for c in choices),
        answer=_answer_index([c["label"] for c in choices], record.get("answerKey"), benchmark),
    )


def hellaswag_preprocess(text: str) -> str:
    """lm-evaluation-harness's hellaswag `preprocess`, verbatim in effect."""
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


def parse_hellaswag(record: dict, benchmark: str, index: int) -> McItem:
    """HF `Rowan/hellaswag` and the original hellaswag_val.jsonl (label a string on the hub, an int in the original)."""
    endings = record.get("endings")
    if not isinstance(endings, list) or not endings:
        raise RowError("missing options (endings)")
    label = record.get("label")
    if label is None or str(label).strip() == "":
        raise RowError("missing answer (label)")
    try:
        answer = int(str(label).strip())
    except ValueError as exc:
        raise RowError(f"label {label!r} is not an integer") from exc
    ctx = _text(record, "ctx_a") + " " + _text(record, "ctx_b").capitalize()
    activity = _text(record, "activity_label")
    ind = record.get("ind")
    split = record.get("split") or "val"
    return McItem(
        id=f"hellaswag-{split}-{ind}" if ind is not None else f"hellaswag-{index}",
        benchmark=benchmark,
        context=hellaswag_preprocess(activity + ": " + ctx),
        question="",
        options=tuple(hellaswag_preprocess(str(e)) for e in endings),
        answer=answer,
        topic=activity or None,
    )


def parse_piqa(record: dict, benchmark: str, index: int) -> McItem:
    """PIQA: goal, sol1, sol2, label (0/1); for the original release the loader adds `label` from the .lst file."""
    label = record.get("label")
    if label is None or str(label).strip() == "":
        raise RowError("missing answer (label)")
    try:
        answer = int(str(label).strip())
    except ValueError as exc:
        raise RowError(f"label {label!r} is not an integer") from exc
    return McItem(
        id=str(record.get("id") or f"piqa-{index}"),
        benchmark=benchmark,
        context="",
        question=_text(record, "goal"),
        options=(_text(record, "sol1"), _text(record, "sol2")),
        answer=answer,
    )


def _storycloze(record: dict, benchmark: str, index: int, id_key: str, sentences: list[str], quiz: list[str], answer_key: str) -> McItem:
    answer = record.get(answer_key)
    if answer is None or str(answer).strip() == "":
        raise RowError(f"missing answer ({answer_key})")
    try:
        answer_index = int(str(answer).strip()) - 1
    except ValueError as exc:
        raise RowError(f"{answer_key} {answer!r} is not 1 or 2") from exc
    return McItem(
        id=str(record.get(id_key) or f"storycloze-{index}"),
        benchmark=benchmark,
        context=" ".join(_text(record, k) for k in sentences),
        question="",
        options=tuple(_text(record, k) for k in quiz),
        answer=answer_index,
    )


def parse_storycloze_hf(record: dict, benchmark: str, index: int) -> McItem:
    """A StoryCloze row in the Hugging Face column layout as an item; RowError when the 1-based right-ending answer is missing or not a number."""
    return _storycloze(
        record,
        benchmark,
        index,
        "story_id",
        [f"input_sentence_{i}" for i in range(1, 5)],
        ["sentence_quiz1", "sentence_quiz2"],
        "answer_right_ending",
    )


def parse_storycloze_csv(record: dict, benchmark: str, index: int) -> McItem:
    """A StoryCloze row in the original CSV release's column layout as an item; RowError when AnswerRightEnding is missing or not a number."""
    return _storycloze(
        record,
        benchmark,
        index,
        "InputStoryid",
        [f"InputSentence{i}" for i in range(1, 5)],
        ["RandomFifthSentenceQuiz1", "RandomFifthSentenceQuiz2"],
        "AnswerRightEnding",
    )


PARSERS: dict[str, Callable[[dict, str, int], McItem]] = {
    "arc_hf": parse_arc_hf,
    "arc_original": parse_arc_original,
    "hellaswag": parse_hellaswag,
    "piqa_hf": parse_piqa,
    "piqa_original": parse_piqa,
    "storycloze_hf": parse_storycloze_hf,
    "storycloze_csv": parse_storycloze_csv,
    "voicebench": parse_voicebench,
}


def detect_format(record: dict) -> str | None:
    """The layout of a row, from its keys; None when none fits."""
    keys = set(record)
    if "endings" in keys and ("ctx_a" in keys or "ctx" in keys):
        return "hellaswag"
    if {"goal", "sol1", "sol2"} <= keys:
        return "piqa_hf" if "label" in keys else "piqa_original"
    if "input_sentence_1" in keys:
        return "storycloze_hf"
    if "InputSentence1" in keys:
        return "storycloze_csv"
    if {"prompt", "reference"} <= keys:
        return "voicebench"
    if isinstance(record.get("question"), dict):
        return "arc_original"
    if "choices" in keys and ("question" in keys or "question_stem" in keys):
        return "arc_hf"
    return None
