"""The speech adapter: frozen Mimi latents (12.5 Hz, 512-d) -> LLM input embeddings.

Usage:
    from salad_core.model.adapter import SpeechAdapter
    from salad_core.model.config import AdapterConfig
    adapter = SpeechAdapter(AdapterConfig.preset("tiny"))
    embeds = adapter(latents)              # (B, T, 512) -> (B, T, llm_hidden)

Why our own blocks instead of transformers' `LlamaModel`: the Llama decoder carries a token
embedding table and a mask/cache machinery the adapter never uses; an unused parameter trips
distributed optimisers and the API moves between transformers versions. The blocks below are the
Llama recipe exactly (pre-RMSNorm, rotary attention with grouped KV heads, SwiGLU MLP, final
RMSNorm) and use the same parameter names, so `tests/test_model_adapter.py` loads their weights into
a `LlamaModel` and checks that both give the same outputs.

Padding: a batch of speech spans is right-padded. With causal attention a real frame only ever
attends to earlier frames of its own span, so padded frames cannot change real outputs and no
attention mask is needed; the padded outputs are simply dropped by the caller.
"""

import torch
import torch.nn.functional as F
from torch import nn

from salad_core.model.config import AdapterConfig


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """RMS-normalise the last dimension in at least float32, scale by the learned weight, and return in the input dtype."""
        # Normalise in at least float32 so bf16 activations keep their scale (as Llama does).
        h = x.to(torch.promote_types(x.dtype, torch.float32))
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


def rotary_cos_sin(n_pos: int, head_dim: int, theta: float, like: torch.Tensor):
    """cos/sin tables (n_pos, head_dim); computed per call (cheap) so no buffer is ever cast to bf16."""
    exponent = torch.arange(0, head_dim, 2, device=like.device, dtype=torch.float32) / head_dim
    inv_freq = 1.0 / (theta**exponent)
    pos = torch.arange(n_pos, device=like.device, dtype=torch.float32)
    angles = torch.outer(pos, inv_freq)
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos().to(like.dtype), angles.sin().to(like.dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding of x (..., T, head_dim) with cos/sin tables broadcastable to it (see rotary_cos_sin)."""
    return x * cos + _rotate_half(x) * sin


class Attention(nn.Module):
    """Causal self-attention with grouped KV heads (GQA) and rotary positions."""

    def __init__(self, cfg: AdapterConfig):
        super().__init__()
        self.n_head, self.n_kv_head, self.head_dim = cfg.n_head, cfg.n_kv_head, cfg.head_dim
        self.q_proj = nn.Linear(cfg.width, cfg.n_head * cfg.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.width, cfg.n_kv_head * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.width, cfg.n_kv_head * cfg.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.n_head * cfg.head_dim, cfg.width, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """Causal self-attention over (B, T, width) with no padding mask (right padding cannot reach real frames); returns (B, T, width)."""
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv_head, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv_head, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        groups = self.n_head // self.n_kv_head
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    """SwiGLU feed-forward."""

    def __init__(self, cfg: AdapterConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.width, cfg.mlp, bias=False)
        self.up_proj = nn.Linear(cfg.width, cfg.mlp, bias=False)
        self.down_proj = nn.Linear(cfg.mlp, cfg.width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """SwiGLU feed-forward, (..., width) -> (..., width)."""
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: AdapterConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.width, cfg.norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.width, cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """One pre-norm Llama block (attention then MLP, each residual) on (B, T, width)."""
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class SpeechAdapter(nn.Module):
    """Input projection 512->width, `n_layer` causal decoder layers, output projection width->LLM."""

    def __init__(self, cfg: AdapterConfig):
        super().__init__()
        self.cfg = cfg
        self.in_proj = nn.Linear(cfg.input_dim, cfg.width)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.width, cfg.norm_eps)
        self.out_proj = nn.Linear(cfg.width, cfg.llm_hidden)
        self.reset_parameters()

    def reset_parameters(self, std: float = 0.02) -> None:
        """Llama-style init (normal 0.02, zero biases): small outputs, like LLM token embeddings."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, RMSNorm):
                nn.init.ones_(module.weight)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """The decoder stack alone, on already-projected inputs (B, T, width) -> (B, T, width)."""
        cos, sin = rotary_cos_sin(h.shape[1], self.cfg.head_dim, self.cfg.rope_theta, like=h)
        for layer in self.layers:
            h = layer(h, cos, sin)
        return self.norm(h)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, T, input_dim) Mimi latents -> (B, T, llm_hidden); cast to the adapter's dtype."""
        h = self.in_proj(latents.to(self.in_proj.weight.dtype))
        return self.out_proj(self.decode(h))


def count_parameters(module: nn.Module) -> int:
    """Total number of parameter elements, trainable or not."""
    return sum(p.numel() for p in module.parameters())
