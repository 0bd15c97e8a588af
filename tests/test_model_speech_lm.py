"""SpeechLM: adapter outputs land at speech positions, gradients reach the student only, dtypes, IO.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_model_speech_lm.py -q
"""

import pytest
import torch

from salad_core.interleave.records import SpeechSegment, TextSegment
from salad_core.interleave.position_map import position_map
from salad_core.interleave.records import InterleavedSample
from salad_core.interleave.text_only import text_only_sample
from salad_core.model import (
    AdapterConfig,
    SpeechAdapter,
    SpeechLM,
    collate_samples,
    count_parameters,
    llm_from_config,
    load_llm,
    tiny_qwen2_config,
)
from salad_core.objective import DistillConfig, FrozenTeacher, batch_loss

VOCAB = 64


def tiny_student(seed: int = 0, dtype=torch.float64, codes_to_latents=None) -> SpeechLM:
    torch.manual_seed(seed)
    llm = llm_from_config(tiny_qwen2_config(VOCAB), dtype=dtype)
    adapter = SpeechAdapter(AdapterConfig.preset("tiny", llm_hidden=64)).to(dtype)
    return SpeechLM(llm, adapter, codes_to_latents)


def mixed_sample() -> InterleavedSample:
    """Teacher 5..12; student: text 5 6 7 | frames 2..5 (for 8 9 10) | text 11 12."""
    teacher = [5, 6, 7, 8, 9, 10, 11, 12]
    segments = [
        TextSegment(token_ids=[5, 6, 7], teacher_start=0),
        SpeechSegment(start_frame=2, end_frame=5),
        TextSegment(token_ids=[11, 12], teacher_start=6),
    ]
    s, t, y = position_map(segments, teacher)
    return InterleavedSample(sample_id="mixed", segments=segments, teacher_ids=teacher, student_positions=s, teacher_positions=t, target_ids=y)


def frames(n=6, dtype=torch.float64, seed=7) -> torch.Tensor:
    return torch.randn(n, 512, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_adapter_outputs_fill_the_speech_positions():
    student = tiny_student()
    x = frames()
    batch = collate_samples([mixed_sample()], [x])
    embeds = student.input_embeddings(batch.input_ids, batch.speech_mask, batch.span_frames, batch.span_lengths)
    expected_speech = student.adapter(x[2:5].unsqueeze(0))[0]
    torch.testing.assert_close(embeds[0, 3:6], expected_speech, rtol=0, atol=0)
    token_table = student.llm.get_input_embeddings().weight
    torch.testing.assert_close(embeds[0, [0, 1, 2, 6, 7]], token_table[[5, 6, 7, 11, 12]], rtol=0, atol=0)


def test_padded_batch_matches_single_samples():
    student = tiny_student().eval()
    a, b = mixed_sample(), text_only_sample("text", [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30])
    x = frames()
    both = student.hidden_states(**collate_samples([a, b], [x, None]).student_inputs())
    alone_a = student.hidden_states(**collate_samples([a], [x]).student_inputs())
    alone_b = student.hidden_states(**collate_samples([b], [None]).student_inputs())
    torch.testing.assert_close(both[0, :8], alone_a[0], rtol=0, atol=1e-10)
    torch.testing.assert_close(both[1, :11], alone_b[0], rtol=0, atol=1e-10)


def test_gradients_reach_adapter_and_student_llm_but_not_teacher():
    student = tiny_student()
    teacher = FrozenTeacher.copy_of(student.llm)
    teacher.check_not_sharing(student)
    with torch.no_grad():  # make the teacher differ so the KL is not at its minimum
        for p in teacher.parameters():
            p.add_(0.05 * torch.randn_like(p))
    student.train()
    teacher.train()  # a parent calling .train() must not switch the teacher out of eval
    assert not teacher.training and not teacher.llm.training

    batch = collate_samples([mixed_sample()], [frames()])
    out = batch_loss(student, teacher, batch, DistillConfig(alpha=1.0, chunk_size=2))
    assert out.n_positions == 4 and out.loss.item() > 0
    out.loss.backward()
    for name, p in student.adapter.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert student.llm.get_input_embeddings().weight.grad.abs().sum() > 0
    for name, p in teacher.named_parameters():
        assert not p.requires_grad and p.grad is None, name


def test_teacher_sharing_the_student_weights_is_caught():
    student = tiny_student()
    with pytest.raises(ValueError, match="shares"):
        FrozenTeacher(student.llm).check_not_sharing(student)


def test_text_only_replay_batch_trains_the_llm_without_speech():
    student = tiny_student()
    teacher = FrozenTeacher.copy_of(tiny_student(seed=3).llm)
    batch = collate_samples([text_only_sample("t", list(range(10, 30)))])
    assert not batch.speech_mask.any() and batch.span_lengths.numel() == 0
    assert torch.equal(batch.student_index, batch.teacher_index)
    out = batch_loss(student, teacher, batch, DistillConfig())
    out.loss.backward()
    assert out.n_positions == 19
    assert all(p.grad is None for p in student.adapter.parameters())
    assert student.llm.get_input_embeddings().weight.grad.abs().sum() > 0


def test_codes_to_latents_path_equals_latents_and_stays_out_of_parameters():
    table = torch.randn(16, 512, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def codebook(codes):  # stands in for Mimi's frozen quantizer decode: (S, n_q, F) -> (S, 512, F)
        assert codes.dtype == torch.long and codes.shape[1] == 2
        return table[codes[:, 0]].transpose(1, 2)

    student = tiny_student(codes_to_latents=codebook).eval()
    codes = torch.tensor([[3, 1], [0, 2], [15, 4], [7, 7], [2, 9], [11, 0]], dtype=torch.int16)
    sample = mixed_sample()
    from_codes = student.hidden_states(**collate_samples([sample], [codes]).student_inputs())
    from_latents = student.hidden_states(**collate_samples([sample], [table[codes[:, 0].long()]]).student_inputs())
    torch.testing.assert_close(from_codes, from_latents, rtol=0, atol=0)
    assert count_parameters(student) == count_parameters(tiny_student())
    with pytest.raises(ValueError, match="codes_to_latents"):
        tiny_student().hidden_states(**collate_samples([sample], [codes]).student_inputs())


def test_bf16_student_and_teacher_give_a_finite_loss():
    student = tiny_student(dtype=torch.bfloat16)
    teacher = FrozenTeacher.copy_of(student.llm)
    batch = collate_samples([mixed_sample()], [frames(dtype=torch.float32)])
    out = batch_loss(student, teacher, batch, DistillConfig(alpha=0.5))
    assert out.kl_per_position.dtype == torch.float32  # softmax upcast
    out.loss.backward()
    assert torch.isfinite(out.loss) and student.adapter.in_proj.weight.grad is not None


def test_load_llm_from_local_folder(tmp_path):
    student = tiny_student(dtype=torch.float32)
    student.llm.save_pretrained(tmp_path)
    reloaded = load_llm(str(tmp_path), dtype=torch.float32)
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        torch.testing.assert_close(reloaded(input_ids=ids).logits, student.llm(input_ids=ids).logits)


def test_text_only_student_equals_the_plain_llm():
    """hidden_states + head on text is exactly the wrapped causal LM (final norm included)."""
    student = tiny_student().eval()
    ids = torch.tensor([[4, 8, 15, 16, 23, 42]])
    with torch.no_grad():
        torch.testing.assert_close(student(ids), student.llm(input_ids=ids).logits, rtol=0, atol=1e-12)
