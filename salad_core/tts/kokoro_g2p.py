"""English phonemes for Kokoro with no network: misaki's G2P on an offline spaCy pipeline.

Usage:
    g2p = make_english_g2p()                 # misaki.en.G2P, never downloads anything
    phonemes, tokens = g2p("The cat sat on the mat.")
    describe_g2p(g2p)                        # what went into the phonemes, for the manifest

Why this path and not misaki's espeak G2P: Kokoro was trained on misaki's own phoneme
lexicon (gold + silver dictionaries, stress rules); espeak's IPA mapped into misaki symbols is
a different pronunciation system and audibly worse. misaki's `en.G2P()` constructor insists on
spaCy's `en_core_web_sm` and calls `spacy.cli.download` when it is missing, which fails (or
hangs) offline. Here the model is used when it is installed; otherwise a blank English
tokenizer plus a small rule-based tagger supplies the few part-of-speech tags misaki relies on
(punctuation, numbers, determiners, "to"). Words outside the lexicon go to misaki's
`EspeakFallback`, which runs on the libespeak-ng bundled in the `espeakng-loader` wheel.
"""

from __future__ import annotations

import logging

import spacy
from misaki import en

log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm"

# Penn Treebank tags misaki's English G2P looks at, assigned by rule when no tagger model exists.
_TAGS_BY_TEXT = {
    ".": ".", "!": ".", "?": ".",
    ",": ",",
    ";": ":", ":": ":", "–": ":", "—": ":", "...": ":", "…": ":",
    "(": "-LRB-", "[": "-LRB-", "{": "-LRB-", ")": "-RRB-", "]": "-RRB-", "}": "-RRB-",
    "“": "``", "”": "''", '"': "''", "‘": "``", "’": "''",
    "$": "$", "€": "$", "£": "$", "#": "#",
}  # fmt: skip
_TAGS_BY_LOWER_WORD = {"a": "DT", "an": "DT", "the": "DT", "to": "TO", "i": "PRP", "in": "IN", "by": "IN"}


def blank_english_pipeline() -> spacy.language.Language:
    """spaCy's English tokenizer with rule-based tags; ~1 ms per sentence, no model files."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    for text, tag in _TAGS_BY_TEXT.items():
        ruler.add(patterns=[[{"ORTH": text}]], attrs={"TAG": tag})
    for word, tag in _TAGS_BY_LOWER_WORD.items():
        ruler.add(patterns=[[{"LOWER": word}]], attrs={"TAG": tag})
    # "-" between words ("state-of-the-art") is a hyphen; with a space after it is a dash (a pause)
    ruler.add(patterns=[[{"ORTH": "-", "SPACY": False}]], attrs={"TAG": "HYPH"})
    ruler.add(patterns=[[{"ORTH": "-", "SPACY": True}]], attrs={"TAG": ":"})
    ruler.add(patterns=[[{"LIKE_NUM": True}]], attrs={"TAG": "CD"})
    return nlp


class OfflineEnglishG2P(en.G2P):
    """misaki's English G2P, built without the constructor's download step."""

    def __init__(self, british: bool = False, use_espeak_fallback: bool = True) -> None:
        # Same fields as misaki 0.9.x en.G2P.__init__, minus `spacy.cli.download`.
        self.version = None
        self.british = british
        self.unk = ""  # what KPipeline uses: unknown words are dropped, not spoken as "❓"
        if spacy.util.is_package(SPACY_MODEL):
            self.nlp = spacy.load(SPACY_MODEL, enable=["tok2vec", "tagger"])
            self.tagger = SPACY_MODEL
        else:
            self.nlp = blank_english_pipeline()
            self.tagger = "spacy-blank-en+rules"
        self.lexicon = en.Lexicon(british)
        self.fallback = None
        if use_espeak_fallback:
            try:
                from misaki.espeak import EspeakFallback

                self.fallback = EspeakFallback(british=british)
            except Exception as error:  # missing wheel or library: OOV words are then skipped
                log.warning("misaki EspeakFallback unavailable (%s); out-of-lexicon words will be dropped", error)


def make_english_g2p(british: bool = False) -> OfflineEnglishG2P:
    """English grapheme-to-phoneme for Kokoro that never touches the network (American unless `british`)."""
    return OfflineEnglishG2P(british=british)


def describe_g2p(g2p: OfflineEnglishG2P) -> dict:
    """G2P identity for the manifest: different taggers or fallbacks give different phonemes."""
    import misaki

    return {
        "g2p": "misaki.en.G2P",
        "misaki_version": getattr(misaki, "__version__", "unknown"),
        "british": g2p.british,
        "tagger": g2p.tagger,
        "fallback": "misaki.espeak.EspeakFallback" if g2p.fallback is not None else None,
    }
