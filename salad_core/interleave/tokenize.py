"""Word-by-word tokenization that keeps student text runs consistent with the teacher's text.

Usage:
    from salad_core.interleave.tokenize import tokenize_words
    per_word = tokenize_words(["The", "cat", "sat."], tokenizer)   # [[...], [...], [...]]
    teacher_ids = [t for word in per_word for t in word]

Why per word: the student's text runs are cut out of the transcript at word boundaries. If each
run were tokenized on its own, a run starting mid-sentence ("cat sat.") would tokenize its first
word without the leading space while the teacher, reading the whole transcript, sees " cat" — the
targets would then disagree. So every word is tokenized once, with the leading space it has in
the transcript (word 0 without one, every later word as " " + word), and BOTH the teacher sequence
and every student text run are concatenations of these same per-word token lists. Teacher and
student therefore agree token for token by construction. For byte-level BPE tokenizers with a
whitespace-splitting pre-tokenizer (GPT-2, Qwen2) this also equals tokenizing the joined
transcript in one call, because their pre-tokenizer never merges across a space before a word.
"""

from collections.abc import Callable, Sequence

Encoder = Callable[[str], list[int]]


def as_encoder(tokenizer) -> Encoder:
    """A `str -> token ids` function (no special tokens) from a transformers or tokenizers object."""
    if callable(tokenizer) and not hasattr(tokenizer, "encode"):
        return tokenizer  # already an encoder function
    try:
        from transformers import PreTrainedTokenizerBase
    except ImportError:  # pragma: no cover - transformers is a dependency
        PreTrainedTokenizerBase = ()
    if isinstance(tokenizer, PreTrainedTokenizerBase):
        return lambda text: list(tokenizer.encode(text, add_special_tokens=False))
    # a `tokenizers.Tokenizer`: encode returns an Encoding with `.ids`
    return lambda text: list(tokenizer.encode(text, add_special_tokens=False).ids)


def tokenize_words(words: Sequence[str], tokenizer) -> list[list[int]]:
    """Token ids per word, each word with its transcript leading space (none for word 0)."""
    encode = as_encoder(tokenizer)
    out = []
    for i, word in enumerate(words):
        ids = encode(word if i == 0 else " " + word)
        if not ids:
            raise ValueError(f"word {i} ({word!r}) tokenizes to nothing")
        out.append(ids)
    return out
