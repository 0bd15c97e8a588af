"""Held-out perplexity of a causal LM on token windows.

Usage:
    from salad_core.teacher.perplexity import model_perplexity
    ppl = model_perplexity(model, token_windows(held_out, seq_len), batch_size=16)

The targets are exactly ``windows[:, 1:]``, the same tokens `unigram_perplexity` is given, so
the two numbers are comparable token for token.
"""

import math

import torch
import torch.nn.functional as F


@torch.no_grad()
def model_perplexity(model, windows: torch.Tensor, batch_size: int = 16, device: str | torch.device = "cpu") -> float:
    """exp(mean next-token NLL) over all targets of the (n, seq_len + 1) windows, no gradients needed; restores the model's train/eval mode."""
    was_training = model.training
    model.eval()
    total_nll, total_tokens = 0.0, 0
    for start in range(0, windows.shape[0], batch_size):
        batch = windows[start : start + batch_size].to(device)
        logits = model(input_ids=batch[:, :-1]).logits.float()
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), reduction="sum")
        total_nll += nll.item()
        total_tokens += batch[:, 1:].numel()
    model.train(was_training)
    return math.exp(total_nll / total_tokens)
