"""How an item becomes a prompt: lm-evaluation-harness's doc_to_text per benchmark, split around the spoken part.

Usage:
    from salad_core.evaluation.prompts import query_text, spoken_text, prompt_parts, continuation
    query_text(item)         # "Question: <question>\nAnswer:" for ARC, the preprocessed ctx for HellaSwag, ...
    prompt_parts(item)       # ("Question:", <spoken text>, "\nAnswer:") -- text before, speech, text after
    continuation(item, k)    # " " + option k (lm-evaluation-harness's target delimiter)

The templates are the harness's own (arc_challenge / piqa: "Question: {q}\nAnswer:"; openbookqa:
the question stem; hellaswag: the preprocessed "activity: context"; storycloze: the four
sentences). Benchmarks the harness has no multiple-choice task for (VoiceBench's mmsu and
openbookqa) use the ARC template; the bundled set uses its paragraph as is. In the speech view
the spoken part replaces the text between `before` and `after` (the trailing space of "Question: "
is dropped there: it belongs to the next word, which is now speech).
"""

from __future__ import annotations

from salad_core.evaluation.items import McItem

TARGET_DELIMITER = " "
FEWSHOT_DELIMITER = "\n\n"
_QUESTION_ANSWER = ("Question: ", "question", "\nAnswer:")
# benchmark -> (text before, which field is spoken, text after)
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "arc_challenge": _QUESTION_ANSWER,
    "piqa": _QUESTION_ANSWER,
    "mmsu": _QUESTION_ANSWER,
    "voicebench_openbookqa": _QUESTION_ANSWER,
    "openbookqa": ("", "question", ""),
    "hellaswag": ("", "context", ""),
    "storycloze": ("", "context", ""),
    "bundled_mc": ("", "context", ""),
}


def _template(item: McItem) -> tuple[str, str, str]:
    try:
        return TEMPLATES[item.benchmark]
    except KeyError:
        raise ValueError(f"item {item.id}: no prompt template for benchmark {item.benchmark!r}") from None


def _body(item: McItem) -> str:
    """Context and question as the source wrote them (untrimmed: the harness does not trim either)."""
    return " ".join(part for part in (item.context or "", item.question or "") if part)


def spoken_text(item: McItem) -> str:
    """What is read aloud: the context and the question (never the options)."""
    return " ".join(_body(item).split())


def query_text(item: McItem) -> str:
    """The item's full text query (template before + context/question + after), the text the LM conditions on; ValueError for a benchmark with no template."""
    before, _, after = _template(item)
    return before + _body(item) + after


def prompt_parts(item: McItem) -> tuple[str, str, str]:
    """(text before, spoken text, text after) for the speech view; the trailing space of `before` is dropped since the next word is now speech."""
    before, _, after = _template(item)
    return before.rstrip(" "), spoken_text(item), after


def continuation(item: McItem, option: int) -> str:
    """Option `option` as the harness scores it: the target delimiter (a space) then the option text."""
    return TARGET_DELIMITER + item.options[option]


def shot_text(item: McItem) -> str:
    """A solved example: its query and its right answer."""
    return query_text(item) + continuation(item, item.answer)
