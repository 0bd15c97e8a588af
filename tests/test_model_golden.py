"""Seeded tiny-model outputs checked against saved tensors in tests/golden/model/.

Run:   HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_model_golden.py -q
Regen: HF_HUB_OFFLINE=1 .venv/bin/python tests/test_model_golden.py
       (only after an intended change of the model or the loss; review the diff in the PR)

What is pinned: the tiny adapter's outputs on fixed latents, the tiny SpeechLM's logits at the
text-next positions of a fixed interleaved sample, and the SALAD loss against a second seeded
tiny LLM as teacher. Weights are drawn in float32 from fixed seeds and everything runs in float64,
so the numbers are reproducible across CPUs to ~1e-12; the tolerance is 1e-9. A transformers
upgrade that changes Qwen2's initialisation shows up here: regenerate after checking why.
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from salad_core.interleave.position_map import position_map
from salad_core.interleave.records import InterleavedSample, MarkerSegment, SpeechSegment, TextSegment
from salad_core.model import AdapterConfig, SpeechAdapter, SpeechLM, collate_samples, llm_from_config, tiny_qwen2_config
from salad_core.objective import DistillConfig, FrozenTeacher, batch_loss

GOLDEN = Path(__file__).parent / "golden" / "model" / "tiny_speech_lm.safetensors"  # tensors only: no pickle to trust
VOCAB = 64


def compute_golden() -> dict[str, torch.Tensor]:
    torch.manual_seed(1234)
    llm = llm_from_config(tiny_qwen2_config(VOCAB)).double()
    adapter = SpeechAdapter(AdapterConfig.preset("tiny", llm_hidden=64)).double()
    student = SpeechLM(llm, adapter).eval()
    torch.manual_seed(99)
    teacher = FrozenTeacher(llm_from_config(tiny_qwen2_config(VOCAB)).double())

    teacher_ids = [3, 14, 15, 9, 26, 53, 58, 9, 7]
    segments = [
        TextSegment(token_ids=[3, 14, 15], teacher_start=0),
        MarkerSegment(token_id=1),
        SpeechSegment(start_frame=1, end_frame=5),  # stands for 9 26 53
        MarkerSegment(token_id=2),
        TextSegment(token_ids=[58, 9, 7], teacher_start=6),
    ]
    s, t, y = position_map(segments, teacher_ids)
    sample = InterleavedSample(sample_id="golden", segments=segments, teacher_ids=teacher_ids, student_positions=s, teacher_positions=t, target_ids=y)
    latents = torch.randn(6, 512, generator=torch.Generator().manual_seed(5)).double()
    batch = collate_samples([sample], [latents])

    with torch.no_grad():
        adapter_out = adapter(latents[None, 1:5])[0]
        logits = student(**batch.student_inputs()).flatten(0, 1)[batch.student_index]
        out = batch_loss(student, teacher, batch, DistillConfig(alpha=0.5, chunk_size=2))
    return {
        "adapter_out": adapter_out,  # (4, 64)
        "text_next_logits": logits,  # (5, 64)
        "kl_per_position": out.kl_per_position,
        "nll_per_position": out.nll_per_position,
        "loss": out.loss.reshape(1),
    }


def test_tiny_model_matches_saved_tensors():
    expected = load_file(GOLDEN)
    actual = compute_golden()
    assert sorted(actual) == sorted(expected)
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-9, atol=1e-9, msg=name)


if __name__ == "__main__":
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    tensors = compute_golden()
    save_file({k: v.contiguous() for k, v in tensors.items()}, GOLDEN)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes): " + ", ".join(f"{k}{tuple(v.shape)}" for k, v in tensors.items()), file=sys.stderr)
