"""A tokenizer as a one-row Arrow table, and back: how the tokenizer lives in the artifact store.

Usage:
    from salad_core.teacher.tokenizer_table import tokenizer_to_table, table_to_tokenizer
    table = tokenizer_to_table(tok, source="embedded")
    tok = table_to_tokenizer(table)            # encodes exactly like `tok`

The whole `tokenizer.json` is one string column (a few hundred kB for 8k BPE, ~7 MB for Qwen2.5),
so the stored version is self-contained even for a pretrained checkpoint: later stages never need
the checkpoint folder just to tokenize. The special-token roles ride along as plain columns, which
the Prefect UI and `salad` CLI show as they are.
"""

from __future__ import annotations

import pyarrow as pa
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from salad_core.teacher.tokenizer import SPEECH_END, SPEECH_START, wrap_tokenizer

SPECIAL_ROLES = ("bos_token", "eos_token", "pad_token", "unk_token")

TOKENIZER_SCHEMA = pa.schema(
    [
        ("tokenizer_json", pa.large_string()),
        ("vocab_size", pa.int64()),
        ("model_max_length", pa.int64()),
        *[(role, pa.string()) for role in SPECIAL_ROLES],
        ("speech_start_token", pa.string()),
        ("speech_end_token", pa.string()),
        ("speech_start_id", pa.int64()),
        ("speech_end_id", pa.int64()),
        ("source", pa.string()),
    ]
)


def tokenizer_to_table(tokenizer: PreTrainedTokenizerFast, source: str) -> pa.Table:
    """The tokenizer as a one-row TOKENIZER_SCHEMA table (its JSON, special tokens and speech marker ids), so it travels as data, not files."""
    row = {
        "tokenizer_json": tokenizer.backend_tokenizer.to_str(),
        "vocab_size": len(tokenizer),
        "model_max_length": min(int(tokenizer.model_max_length), 2**62),  # "unlimited" is a huge float
        **{role: getattr(tokenizer, role) for role in SPECIAL_ROLES},
        "speech_start_token": SPEECH_START,
        "speech_end_token": SPEECH_END,
        "speech_start_id": tokenizer.convert_tokens_to_ids(SPEECH_START),
        "speech_end_id": tokenizer.convert_tokens_to_ids(SPEECH_END),
        "source": source,
    }
    return pa.Table.from_pylist([row], schema=TOKENIZER_SCHEMA)


def table_to_tokenizer(table: pa.Table) -> PreTrainedTokenizerFast:
    """The tokenizer back from a one-row table; ValueError for any other row count or when its vocabulary size differs from the row's."""
    if table.num_rows != 1:
        raise ValueError(f"a tokenizer table has exactly one row, got {table.num_rows}")
    row = table.to_pylist()[0]
    tokenizer = wrap_tokenizer(Tokenizer.from_str(row["tokenizer_json"]), {role: row[role] for role in SPECIAL_ROLES}, row["model_max_length"])
    if len(tokenizer) != row["vocab_size"]:
        raise ValueError(f"stored tokenizer has {len(tokenizer)} tokens, its row says {row['vocab_size']}")
    return tokenizer
