"""The teacher's report card: held-out perplexity next to a unigram baseline on the same tokens.

Usage:
    from salad_core.teacher.evaluate import evaluate_teacher
    report = evaluate_teacher(model, streams, vocab_size=len(tokenizer), seq_len=128)
    report.ratio          # teacher / unigram perplexity: well below 1 means it learned context

Both numbers score exactly the targets of the held-out windows (documents chosen by id hash),
the unigram from training-split counts only, so the ratio is a fair "did it learn anything".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from salad_core.teacher.perplexity import model_perplexity
from salad_core.teacher.token_stream import TokenStreams, token_windows
from salad_core.teacher.unigram import unigram_perplexity


@dataclass
class TeacherEvaluation:
    held_out_perplexity: float
    unigram_perplexity: float
    eval_tokens: int

    @property
    def ratio(self) -> float:
        """Held-out over unigram perplexity: well below 1 means the teacher learned more than token frequencies."""
        return self.held_out_perplexity / self.unigram_perplexity

    def stats(self) -> dict[str, float | int]:
        """JSON-ready stats for the manifest, perplexities and ratio rounded to 4 decimals."""
        return {
            "held_out_perplexity": round(self.held_out_perplexity, 4),
            "unigram_perplexity": round(self.unigram_perplexity, 4),
            "perplexity_ratio": round(self.ratio, 4),
            "eval_tokens": self.eval_tokens,
        }


def evaluate_teacher(
    model, streams: TokenStreams, vocab_size: int, seq_len: int, batch_size: int = 16, device: str | torch.device = "cpu"
) -> TeacherEvaluation:
    """Teacher vs add-one unigram perplexity on the same held-out (seq_len + 1)-token windows; ValueError when the held-out
    stream is shorter than one window."""
    windows = token_windows(streams.held_out, seq_len)
    return TeacherEvaluation(
        held_out_perplexity=model_perplexity(model, windows, batch_size, device),
        unigram_perplexity=unigram_perplexity(streams.train, windows[:, 1:], vocab_size),
        eval_tokens=windows[:, 1:].numel(),
    )
