"""WSD schedule shape, checkpoint steps, per-group learning rates, frozen teacher and Mimi."""

from __future__ import annotations

import pytest
import torch

from salad_core.model import llm_from_config, tiny_qwen2_config
from salad_core.objective.distill import DistillConfig
from salad_core.objective.teacher import FrozenTeacher
from salad_core.training import TrainConfig, checkpoint_steps, wsd_factor
from salad_core.training.student import DistillModule, build_student, param_groups
from salad_core.training.trainer import collate_items
from tests.test_training_data import ListRows, _joined, _speech_source, tiny_training_inputs

torch.set_num_threads(1)


def test_wsd_warmup_constant_then_linear_decay_to_zero():
    f = wsd_factor(warmup=4, total=20, decay=4)
    assert [f(s) for s in range(20)] == pytest.approx([0.25, 0.5, 0.75, 1.0] + [1.0] * 12 + [1.0, 0.75, 0.5, 0.25])
    assert f(20) == 0.0
    stage2 = wsd_factor(warmup=0, total=5, decay=5)
    assert [stage2(s) for s in range(6)] == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2, 0.0])
    with pytest.raises(ValueError, match="warmup"):
        wsd_factor(warmup=18, total=20, decay=4)


def test_pre_decay_step_is_the_last_step_at_full_lr():
    cfg = TrainConfig.preset("tiny").model_copy(update={"steps": 50, "warmup_steps": 5, "save_every": 20})
    assert cfg.pre_decay_step == 40
    f = wsd_factor(cfg.warmup_steps, cfg.steps, cfg.decay_steps)
    assert f(cfg.pre_decay_step - 1) == 1.0 and f(cfg.pre_decay_step) == 1.0 and f(cfg.pre_decay_step + 1) < 1.0
    assert checkpoint_steps(cfg) == {20: "periodic", 40: "pre_decay", 50: "final"}
    stage2 = TrainConfig.preset("tiny", stage=2).model_copy(update={"steps": 10, "save_every": 4})
    assert checkpoint_steps(stage2) == {4: "periodic", 8: "periodic", 10: "final"}


def test_paper_presets():
    p3, p7 = TrainConfig.preset("3b"), TrainConfig.preset("7b")
    assert (p3.lr_adapter, p3.lr_llm, p7.lr_adapter, p7.lr_llm) == (1e-3, 5e-5, 1e-4, 5e-6)
    assert p3.warmup_steps == 500 and p3.weight_decay == 0.1 and p3.decay_fraction == 0.2 and p3.max_positions == 2048
    assert p3.micro_batch_positions * p3.grad_accum * p3.num_procs == 2**20  # ~1M tokens per optimizer step
    s2 = TrainConfig.preset("3b", stage=2)
    assert s2.decay_fraction == 1.0 and s2.warmup_steps == 0 and [m.name for m in s2.mixture] == ["natural", "synthetic", "text"]
    assert len({m.weight for m in s2.mixture}) == 1  # equal thirds
    with pytest.raises(ValueError, match="could not fit one full-length sample"):
        TrainConfig(max_positions=2048, micro_batch_positions=1024)


def test_each_parameter_group_gets_its_own_lr():
    torch.manual_seed(0)
    student = build_student(llm_from_config(tiny_qwen2_config(vocab_size=64, hidden=32, n_layer=1)), "tiny", seed=0)
    groups = param_groups(student, lr_adapter=1e-3, lr_llm=5e-5, weight_decay=0.1)
    assert [g["name"] for g in groups] == ["adapter", "llm"]
    assert sum(len(g["params"]) for g in groups) == len(list(student.parameters()))
    opt = torch.optim.AdamW(groups)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, wsd_factor(2, 6, 2))
    seen = []
    for _ in range(6):
        seen.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    factors = [0.5, 1.0, 1.0, 1.0, 1.0, 0.5]
    assert [lr for pair in seen for lr in pair] == pytest.approx([lr for f in factors for lr in (1e-3 * f, 5e-5 * f)])
    assert all(g["weight_decay"] == 0.1 for g in opt.param_groups)


def test_teacher_and_mimi_get_no_gradient_and_stay_bit_identical():
    from tasks.checkpoint_store import load_code_decoder
    from tasks.teacher import load_teacher

    inputs = tiny_training_inputs()
    llm, tok = load_teacher(inputs.store, inputs.teacher, dtype="float32")
    teacher = FrozenTeacher.copy_of(llm)
    decoder = load_code_decoder(inputs.store, inputs.mimi, 8)
    student = build_student(llm, "tiny", decoder, seed=0)
    module = DistillModule(student, teacher, DistillConfig())
    names = [n for n, _ in module.named_parameters()]
    assert all(n.startswith("student.") for n in names)  # teacher and quantizer are not parameters of what is trained
    before_teacher = {n: p.clone() for n, p in teacher.named_parameters()}
    before_mimi = {n: t.clone() for n, t in decoder.state_dict().items()}
    before_student = {n: p.clone() for n, p in student.named_parameters()}
    speech = _speech_source(inputs, ListRows([_joined(inputs, inputs.texts[:6])]))
    opt = torch.optim.AdamW(param_groups(student, 1e-2, 1e-3, 0.1))
    for _ in range(2):
        batch = collate_items([speech.peek()], tok.pad_token_id)
        speech.advance()
        out = module(batch)
        opt.zero_grad()
        out.loss.backward()
        assert all(p.grad is None for p in teacher.parameters())
        assert all(p.grad is None for p in decoder.parameters())
        opt.step()
    assert all(torch.equal(before_teacher[n], p) for n, p in teacher.named_parameters())
    assert all(torch.equal(before_mimi[n], t) for n, t in decoder.state_dict().items())
    changed = [n for n, p in student.named_parameters() if not torch.equal(before_student[n], p)]
    assert any(n.startswith("adapter.") for n in changed) and any(n.startswith("llm.") for n in changed)


def test_activation_checkpointing_keeps_loss_gradients_and_exported_names():
    from salad_core.training.student import enable_activation_checkpointing, export_state

    inputs = tiny_training_inputs()
    speech = _speech_source(inputs, ListRows([_joined(inputs, inputs.texts[:4])]))
    batch = collate_items([speech.peek()], inputs.tokenizer.pad_token_id)
    proj = torch.nn.Linear(8, 512).requires_grad_(False)

    def c2l(codes):  # (S, n_q, F) int -> (S, 512, F): a fixed projection keeps this test free of Mimi
        return proj(codes.float().transpose(1, 2) / 2048).transpose(1, 2)

    results = []
    for checkpointed in (False, True):
        torch.manual_seed(0)
        llm = llm_from_config(tiny_qwen2_config(vocab_size=len(inputs.tokenizer), hidden=32, n_layer=2))
        teacher = FrozenTeacher.copy_of(llm)
        student = build_student(llm, "tiny", c2l, seed=0)
        plain_names = list(student.state_dict())
        if checkpointed:
            enable_activation_checkpointing(student)
            assert list(export_state(student)) == plain_names
        out = DistillModule(student, teacher, DistillConfig(alpha=0.5))(batch)
        out.loss.backward()
        results.append((out.loss.detach(), {n: p.grad.clone() for n, p in student.named_parameters()}))
    (loss_a, grads_a), (loss_b, grads_b) = results
    assert torch.equal(loss_a, loss_b)
    assert len(grads_a) == len(grads_b)
    for (na, ga), (nb, gb) in zip(grads_a.items(), grads_b.items()):
        assert torch.allclose(ga, gb, atol=1e-6, rtol=1e-5), (na, nb)
