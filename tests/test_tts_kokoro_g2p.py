"""Kokoro's English phonemes offline: misaki's G2P without spaCy's model download."""

from __future__ import annotations

import pytest

pytest.importorskip("misaki")

from salad_core.tts.kokoro_config import KOKORO_VOCAB  # noqa: E402
from salad_core.tts.kokoro_g2p import OfflineEnglishG2P, describe_g2p  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def g2p():
    import spacy.cli

    original = spacy.cli.download

    def refuse(*args, **kwargs):
        raise AssertionError("the offline G2P must never try to download a spaCy model")

    spacy.cli.download = refuse
    try:
        yield OfflineEnglishG2P()
    finally:
        spacy.cli.download = original


def test_known_sentence_phonemes(g2p):
    phonemes, tokens = g2p("The cat sat on the mat.")
    assert phonemes == "ðə kˈæt sˈæt ˌɔn ðə mˈæt."
    assert [t.text for t in tokens] == ["The", "cat", "sat", "on", "the", "mat", "."]


def test_numbers_hyphens_and_dashes(g2p):
    assert g2p("It costs 42 dollars.")[0] == "ˌɪt kˈɔsts fˈɔɹTi tˈu dˈɑləɹz."
    hyphen, dash = g2p("state-of-the-art")[0], g2p("yes - no")[0]
    assert "—" not in hyphen  # a hyphen inside a word is not a pause
    assert "—" in dash  # a spaced dash is


def test_out_of_lexicon_word_uses_the_espeak_fallback(g2p):
    assert g2p.fallback is not None
    phonemes, _ = g2p("Zorblaxian")
    assert len(phonemes) >= 6


def test_every_phoneme_is_in_kokoro_vocab(g2p, shared_data):
    import json

    rows = [json.loads(line) for line in (shared_data / "real_text" / "fineweb_edu_sample10BT_texts.jsonl").open()]
    text = " ".join(" ".join(row["text"][:400].split()) for row in rows[:20])  # KPipeline splits at newlines
    phonemes, _ = g2p(text)
    assert len(phonemes) > 1000
    assert {ch for ch in phonemes if ch not in KOKORO_VOCAB} == set()


def test_description_names_the_tagger(g2p):
    info = describe_g2p(g2p)
    assert info["g2p"] == "misaki.en.G2P" and info["tagger"] in ("en_core_web_sm", "spacy-blank-en+rules")
