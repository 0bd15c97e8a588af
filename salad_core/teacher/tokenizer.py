"""The teacher's tokenizer: a byte-level BPE trained on the corpus, or a checkpoint's own.

Usage:
    from salad_core.teacher.tokenizer import train_bpe_tokenizer, load_pretrained_tokenizer, speech_marker_ids
    tok = train_bpe_tokenizer(texts, vocab_size=8192)          # ~seconds on the bundled corpus
    tok = load_pretrained_tokenizer("/models/Qwen2.5-3B")       # local files only
    start_id, end_id = speech_marker_ids(tok)                   # for InterleaveConfig(speech_start_id=...)

Why a trained tokenizer at all: with Qwen's 152k vocabulary a tiny LM spends nearly all its
compute in the output layer (~0.3k tokens/s on CPU); an 8k BPE keeps the tiny teacher trainable
in minutes. It is built like Qwen2's (NFC, GPT-2 byte-level pre-tokenizer that splits before
spaces, every byte in the alphabet so nothing is ever unknown), so text encodes the same way
word by word as in one call, which the interleaving code relies on. Like Qwen, encoding adds no
special tokens; documents are framed with the eos token by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

SPEECH_START = "<|speech_start|>"
SPEECH_END = "<|speech_end|>"
SPEECH_MARKERS = (SPEECH_START, SPEECH_END)
# The embedded tokenizer's special tokens, ids 0.. in this order.
EMBEDDED_SPECIALS = {"eos_token": "<|endoftext|>", "bos_token": "<|bos|>", "pad_token": "<|pad|>", "unk_token": "<|unk|>"}


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int = 8192, min_frequency: int = 2, model_max_length: int = 2048) -> PreTrainedTokenizerFast:
    """A byte-level BPE with eos/bos/pad/unk and the two speech markers as special tokens."""
    special = [*EMBEDDED_SPECIALS.values(), *SPEECH_MARKERS]
    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    return wrap_tokenizer(bpe, dict(EMBEDDED_SPECIALS), model_max_length)


def wrap_tokenizer(tokenizer: Tokenizer, specials: dict[str, str | None], model_max_length: int) -> PreTrainedTokenizerFast:
    """The transformers interface over a `tokenizers.Tokenizer`, speech markers included."""
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        model_max_length=model_max_length,
        **{role: token for role, token in specials.items() if token is not None},
    )
    add_speech_markers(fast)
    return fast


def add_speech_markers(tokenizer: PreTrainedTokenizerFast) -> None:
    """Register the speech markers as special tokens (a no-op when they already are).

    On Qwen2.5 they take ids just past the tokenizer's 151,665 tokens, inside the model's 151,936
    embedding rows, so no resize is needed; the teacher never sees them (it reads text only).
    """
    missing = [m for m in SPEECH_MARKERS if m not in tokenizer.all_special_tokens]
    if missing:
        tokenizer.add_special_tokens({"extra_special_tokens": missing}, replace_extra_special_tokens=False)


def load_pretrained_tokenizer(folder: str) -> PreTrainedTokenizerFast:
    """A checkpoint's own tokenizer from a local folder (never downloads), speech markers added."""
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(f"{folder}: only fast (tokenizer.json) tokenizers are supported, got {type(tokenizer).__name__}")
    add_speech_markers(tokenizer)
    return tokenizer


def speech_marker_ids(tokenizer: PreTrainedTokenizerFast) -> tuple[int, int]:
    """(speech_start_id, speech_end_id)."""
    start, end = (tokenizer.convert_tokens_to_ids(m) for m in SPEECH_MARKERS)
    if start is None or end is None or start == end or tokenizer.unk_token_id in (start, end):
        raise ValueError(f"tokenizer lacks distinct speech markers {SPEECH_MARKERS}")
    return start, end
