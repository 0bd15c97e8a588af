"""check_text: every kind of unspeakable text gets a readable reason; real web text passes."""

from __future__ import annotations

import json

import pytest

from salad_core.tts.text_checks import check_text


@pytest.mark.parametrize(
    "text, expected_words",
    [
        ("", "empty"),
        ("   \n\t  ", "whitespace"),
        ("!!! ... ??? --- ;;", "no letters"),
        ("12345 678.90 -- 42%", "no letters"),
        ("a" * 50_000, "too long"),
        ("我们今天去公园散步，天气非常好。", "script"),
        ("ذهبنا إلى الحديقة اليوم وكان الطقس جميلا", "script"),
        ("Мы пошли в парк сегодня", "script"),
        ("hello\x00world", "control"),
    ],
    ids=["empty", "whitespace", "punctuation", "digits", "50k-chars", "chinese", "arabic", "cyrillic", "nul"],
)
def test_bad_text_gets_a_reason(text, expected_words):
    reason = check_text(text, max_chars=5000)
    assert reason is not None and expected_words in reason


def test_too_long_reason_names_both_lengths():
    reason = check_text("word " * 10_000, max_chars=5000)
    assert "50000" in reason and "5000" in reason


def test_normal_english_passes():
    assert check_text("The cat sat on the mat.", max_chars=5000) is None
    # a few letters from another script are fine (a Greek symbol in a science text)
    assert check_text("Café naïve résumé — 3 times, α-decay!", max_chars=5000) is None


def test_mostly_foreign_with_some_english_is_rejected():
    assert check_text("Hello 你好世界你好世界你好世界", max_chars=5000) is not None


def test_non_string_is_rejected():
    assert "not a string" in check_text(None, max_chars=10)


def test_real_fineweb_texts_pass(shared_data):
    rows = [json.loads(line) for line in (shared_data / "real_text" / "fineweb_edu_sample10BT_texts.jsonl").open()]
    reasons = [check_text(row["text"], max_chars=10_000) for row in rows]
    assert reasons.count(None) == len(rows), [r for r in reasons if r]
