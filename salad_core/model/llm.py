"""The language model side: a tiny Qwen2 for CPU/tests, or real weights from a local folder.

Usage:
    from salad_core.model.llm import tiny_qwen2_config, llm_from_config, load_llm
    llm = llm_from_config(tiny_qwen2_config(vocab_size=512), dtype=torch.float32)
    llm = load_llm("/models/Qwen2.5-3B", dtype=torch.bfloat16, device="cuda")  # no downloads

Anything `AutoModelForCausalLM` builds works downstream; the rest of salad_core only uses
`get_input_embeddings()`, `get_output_embeddings()` and `base_model(inputs_embeds=...)`.
Loading is local-only (`local_files_only=True`): set HF_HUB_OFFLINE=1 and point at a folder or a
pre-filled HF cache, so a missing file fails fast instead of hanging on the network.
"""

import torch
from transformers import AutoModelForCausalLM, PreTrainedModel, Qwen2Config


def tiny_qwen2_config(
    vocab_size: int,
    hidden: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_kv_head: int = 2,
    mlp: int = 192,
    max_positions: int = 2048,
    tie_word_embeddings: bool = False,
) -> Qwen2Config:
    """A Qwen2 small enough for two CPU cores; pair it with a small trained tokenizer."""
    return Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=mlp,
        num_hidden_layers=n_layer,
        num_attention_heads=n_head,
        num_key_value_heads=n_kv_head,
        max_position_embeddings=max_positions,
        tie_word_embeddings=tie_word_embeddings,
        use_cache=False,
    )


def llm_from_config(config, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> PreTrainedModel:
    """A randomly initialised causal LM (seed with torch.manual_seed before calling)."""
    llm = AutoModelForCausalLM.from_config(config)
    return llm.to(device=device, dtype=dtype)


def load_llm(path: str, dtype: torch.dtype = torch.bfloat16, device: str | torch.device = "cpu") -> PreTrainedModel:
    """Pretrained weights from a local folder (e.g. Qwen2.5-3B); never downloads."""
    llm = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
    return llm.to(device)
