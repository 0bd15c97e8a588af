"""The speech adapter: paper-size parameter count, Llama equivalence, causality, padding.

Run: .venv/bin/python -m pytest tests/test_model_adapter.py -q -s   (-s shows the parameter count)
"""

import pytest
import torch
from transformers import LlamaConfig, LlamaModel

from salad_core.model.adapter import SpeechAdapter, count_parameters
from salad_core.model.config import AdapterConfig

PAPER_PARAMS = 122e6


@pytest.mark.parametrize("preset", ["3b", "7b"])
def test_paper_adapter_has_about_122m_parameters(preset):
    with torch.device("meta"):  # shapes only, no memory, no init cost
        adapter = SpeechAdapter(AdapterConfig.preset(preset))
    n = count_parameters(adapter)
    print(f"\nadapter preset {preset}: {n:,} parameters ({n / 1e6:.1f}M; paper ~122M)")
    assert abs(n - PAPER_PARAMS) / PAPER_PARAMS < 0.05
    cfg = adapter.cfg
    assert (cfg.n_layer, cfg.width, cfg.mlp, cfg.n_head, cfg.n_kv_head, cfg.input_dim) == (12, 960, 2560, 15, 5, 512)
    assert adapter.out_proj.out_features == {"3b": 2048, "7b": 3584}[preset]


def test_tiny_preset_is_a_few_million_parameters():
    n = count_parameters(SpeechAdapter(AdapterConfig.preset("tiny")))
    print(f"\nadapter preset tiny: {n:,} parameters")
    assert 1e6 < n < 6e6


def test_config_checks_head_shapes():
    with pytest.raises(ValueError):
        AdapterConfig(n_layer=1, width=60, mlp=8, n_head=8, n_kv_head=2, llm_hidden=8)
    with pytest.raises(ValueError):
        AdapterConfig(n_layer=1, width=64, mlp=8, n_head=8, n_kv_head=3, llm_hidden=8)
    assert AdapterConfig.preset("tiny", llm_hidden=96).llm_hidden == 96


def _small_cfg() -> AdapterConfig:
    return AdapterConfig(n_layer=2, width=48, mlp=80, n_head=6, n_kv_head=2, llm_hidden=24, input_dim=16)


def test_decoder_stack_equals_transformers_llama():
    """Our blocks ARE the Llama recipe: same weights in transformers' LlamaModel, same outputs."""
    torch.manual_seed(0)
    cfg = _small_cfg()
    adapter = SpeechAdapter(cfg).eval()
    for p in adapter.parameters():  # non-trivial norms too
        torch.nn.init.normal_(p, std=0.3)
    llama = LlamaModel(
        LlamaConfig(
            vocab_size=8,
            hidden_size=cfg.width,
            intermediate_size=cfg.mlp,
            num_hidden_layers=cfg.n_layer,
            num_attention_heads=cfg.n_head,
            num_key_value_heads=cfg.n_kv_head,
            rms_norm_eps=cfg.norm_eps,
            rope_theta=cfg.rope_theta,
            max_position_embeddings=64,
            attention_bias=False,
            mlp_bias=False,
        )
    ).eval()
    stack = {k: v for k, v in adapter.state_dict().items() if k.startswith(("layers.", "norm."))}
    missing, unexpected = llama.load_state_dict(stack, strict=False)
    assert unexpected == [] and missing == ["embed_tokens.weight"]

    h = adapter.in_proj(torch.randn(3, 17, cfg.input_dim))
    with torch.no_grad():
        ours = adapter.decode(h)
        theirs = llama(inputs_embeds=h, use_cache=False).last_hidden_state
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_adapter_is_causal_and_padding_does_not_leak():
    torch.manual_seed(1)
    adapter = SpeechAdapter(_small_cfg()).double().eval()
    x = torch.randn(1, 12, 16, dtype=torch.float64)
    y = adapter(x)
    x2 = x.clone()
    x2[:, 7:] = torch.randn(1, 5, 16, dtype=torch.float64)  # change the future only
    torch.testing.assert_close(adapter(x2)[:, :7], y[:, :7], rtol=0, atol=1e-12)
    assert not torch.allclose(adapter(x2)[:, 7:], y[:, 7:])
    padded = torch.cat([x[:, :5], torch.full((1, 7, 16), 9.0, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(adapter(padded)[:, :5], adapter(x[:, :5]), rtol=0, atol=1e-12)


def test_adapter_runs_in_bf16():
    adapter = SpeechAdapter(_small_cfg()).to(torch.bfloat16)
    out = adapter(torch.randn(2, 5, 16))  # float32 latents are cast to the adapter dtype
    assert out.dtype == torch.bfloat16 and torch.isfinite(out.float()).all()
