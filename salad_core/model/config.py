"""Adapter configuration and its presets.

Usage:
    from salad_core.model.config import AdapterConfig
    cfg = AdapterConfig.preset("3b")             # the paper adapter for Qwen2.5-3B (hidden 2048)
    cfg = AdapterConfig.preset("tiny", llm_hidden=64)  # CPU tests and the demo
    cfg = AdapterConfig.preset("7b").for_llm(llm.config)  # take the LLM width from its config

The adapter width is independent of the LLM width on purpose: the paper keeps one ~122M adapter
(12 layers, width 960) and only changes the output projection between the 3B and 7B models.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

PresetName = Literal["tiny", "3b", "7b"]


class AdapterConfig(BaseModel):
    """Shape of the speech adapter: Mimi latents -> causal Llama-style stack -> LLM embeddings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_layer: int
    width: int
    mlp: int
    n_head: int
    n_kv_head: int
    llm_hidden: int
    input_dim: int = 512  # Mimi latent size
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        """Width of one attention head: `width` / `n_head`."""
        return self.width // self.n_head

    @model_validator(mode="after")
    def _check_heads(self) -> "AdapterConfig":
        if self.width % self.n_head:
            raise ValueError(f"width {self.width} is not divisible by n_head {self.n_head}")
        if self.n_head % self.n_kv_head:
            raise ValueError(f"n_head {self.n_head} is not a multiple of n_kv_head {self.n_kv_head}")
        if self.head_dim % 2:
            raise ValueError(f"head_dim {self.head_dim} must be even for rotary embeddings")
        return self

    @classmethod
    def preset(cls, name: PresetName, llm_hidden: int | None = None) -> "AdapterConfig":
        """A named preset; `llm_hidden` overrides the preset's LLM width (e.g. another tiny LLM)."""
        fields = dict(ADAPTER_PRESETS[name])
        if llm_hidden is not None:
            fields["llm_hidden"] = llm_hidden
        return cls(**fields)

    def for_llm(self, llm_config) -> "AdapterConfig":
        """The same adapter with its output projection sized for `llm_config.hidden_size`."""
        return self.model_copy(update={"llm_hidden": int(llm_config.hidden_size)})


_PAPER = dict(n_layer=12, width=960, mlp=2560, n_head=15, n_kv_head=5)

ADAPTER_PRESETS: dict[str, dict] = {
    # ~3.3M parameters: fast on two CPU cores, still every part of the real adapter.
    "tiny": dict(n_layer=4, width=256, mlp=768, n_head=4, n_kv_head=2, llm_hidden=64),
    "3b": dict(_PAPER, llm_hidden=2048),  # Qwen2.5-3B hidden size
    "7b": dict(_PAPER, llm_hidden=3584),  # Qwen2.5-7B hidden size
}
