"""The frozen text teacher and its tokenizer, as plain Python/PyTorch (no Prefect, no store).

Usage (what `tasks/teacher.py` does, in short):
    from salad_core.teacher import (TeacherConfig, train_bpe_tokenizer, corpus_token_streams,
        token_windows, new_tiny_teacher, pretrain, evaluate_teacher, state_dict_to_table, table_to_model)
    cfg = TeacherConfig()                                             # tiny embedded teacher
    tok = train_bpe_tokenizer(split_documents(batches, cfg.held_out_fraction, held_out=False), cfg.vocab_size)
    streams = corpus_token_streams(batches, tok, cfg.held_out_fraction, cfg.max_eval_tokens)
    model = new_tiny_teacher(cfg, len(tok))
    result = pretrain(model, token_windows(streams.train, cfg.seq_len), cfg)
    report = evaluate_teacher(model, streams, len(tok), cfg.seq_len)  # report.ratio < 1: learned context
    table = state_dict_to_table(model.state_dict(), model.config)     # -> Parquet artifact
    same = table_to_model(table)

``batches`` are Arrow record batches with ``id`` and ``text`` (the corpus artifact, streamed).
"""

from salad_core.teacher.checkpoint import checkpoint_hashes, resolve_checkpoint
from salad_core.teacher.config import TeacherConfig
from salad_core.teacher.corpus_text import partition_batch, split_documents
from salad_core.teacher.evaluate import TeacherEvaluation, evaluate_teacher
from salad_core.teacher.perplexity import model_perplexity
from salad_core.teacher.pretraining import PretrainResult, new_tiny_teacher, pretrain
from salad_core.teacher.pretrained import load_pretrained_teacher, pretrained_teacher_table
from salad_core.teacher.split import is_held_out
from salad_core.teacher.teacher_table import table_to_teacher
from salad_core.teacher.threads import torch_threads
from salad_core.teacher.token_stream import TokenStreams, corpus_token_streams, token_windows
from salad_core.teacher.tokenizer import (
    SPEECH_END,
    SPEECH_START,
    load_pretrained_tokenizer,
    speech_marker_ids,
    train_bpe_tokenizer,
)
from salad_core.teacher.tokenizer_table import table_to_tokenizer, tokenizer_to_table
from salad_core.teacher.unigram import unigram_perplexity
from salad_core.teacher.weights_table import state_dict_to_table, table_to_model, table_to_state_dict

__all__ = [
    "SPEECH_END",
    "SPEECH_START",
    "PretrainResult",
    "TeacherConfig",
    "TeacherEvaluation",
    "TokenStreams",
    "checkpoint_hashes",
    "corpus_token_streams",
    "evaluate_teacher",
    "is_held_out",
    "load_pretrained_teacher",
    "load_pretrained_tokenizer",
    "model_perplexity",
    "new_tiny_teacher",
    "partition_batch",
    "pretrain",
    "pretrained_teacher_table",
    "resolve_checkpoint",
    "speech_marker_ids",
    "split_documents",
    "state_dict_to_table",
    "table_to_model",
    "table_to_state_dict",
    "table_to_teacher",
    "table_to_tokenizer",
    "token_windows",
    "tokenizer_to_table",
    "torch_threads",
    "train_bpe_tokenizer",
    "unigram_perplexity",
]
