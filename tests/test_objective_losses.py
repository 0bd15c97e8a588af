"""Golden values for the SALAD loss: hand-computed KL/NLL, temperature, alpha ends, chunking.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_objective_losses.py -q
"""

import math

import pytest
import torch
from torch import nn

from salad_core.objective.distill import (
    DistillConfig,
    distillation_loss,
    kl_divergence,
    position_losses,
)

# Row 0: teacher p = (1/2, 1/4, 1/4), student q = (1/4, 1/2, 1/4), target 0.
#   KL(p||q) = 1/2 ln 2 + 1/4 ln(1/2) + 1/4 ln 1 = 1/4 ln 2;   NLL = -ln q[0] = ln 4
# Row 1: teacher p = (0.7, 0.2, 0.1), student uniform, target 2.
#   KL = 0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1 + ln 3 = 0.296793733...;  NLL = ln 3
KL_ROW0 = 0.25 * 0.6931471805599453  # 0.17328679513998632
KL_ROW1 = 0.7 * -0.35667494393873245 + 0.2 * -1.6094379124341003 + 0.1 * -2.302585092994046 + 1.0986122886681098
NLL_ROW0 = 1.3862943611198906  # ln 4
NLL_ROW1 = 1.0986122886681098  # ln 3


def _hand_logits(shift: float = 0.0):
    """Logits are log-probabilities plus an arbitrary per-row shift (softmax must ignore it)."""
    teacher = torch.tensor([[0.5, 0.25, 0.25], [0.7, 0.2, 0.1]], dtype=torch.float64).log() + shift
    student = torch.tensor([[0.25, 0.5, 0.25], [1 / 3, 1 / 3, 1 / 3]], dtype=torch.float64).log() - shift
    targets = torch.tensor([0, 2])
    return student, teacher, targets


@pytest.mark.parametrize("shift", [0.0, 3.5], ids=["raw", "shifted"])
def test_kl_and_nll_match_hand_values(shift):
    student, teacher, targets = _hand_logits(shift)
    kl, nll = position_losses(student, teacher, targets)
    assert kl.dtype == torch.float64
    torch.testing.assert_close(kl, torch.tensor([KL_ROW0, KL_ROW1], dtype=torch.float64), rtol=0, atol=1e-12)
    torch.testing.assert_close(nll, torch.tensor([NLL_ROW0, NLL_ROW1], dtype=torch.float64), rtol=0, atol=1e-12)


def test_kl_is_forward_teacher_to_student():
    student, teacher, targets = _hand_logits()
    kl, _ = position_losses(student, teacher, targets)
    reverse, _ = position_losses(teacher, student, targets)
    # KL(q||p) for row 0 = 1/4 ln(1/2) + 1/2 ln 2 = 1/4 ln 2 (symmetric by construction), row 1 differs:
    # KL(uniform || p) = -ln 3 - (ln 0.7 + ln 0.2 + ln 0.1)/3 = 0.3610...
    assert reverse[1].item() == pytest.approx(-1.0986122886681098 - (-0.35667494393873245 - 1.6094379124341003 - 2.302585092994046) / 3, abs=1e-12)
    assert kl[1].item() != pytest.approx(reverse[1].item(), abs=1e-3)


def test_kl_with_zero_probability_is_finite():
    teacher_log = torch.tensor([[0.0, -math.inf]], dtype=torch.float64)  # p = (1, 0)
    student_log = torch.tensor([[math.log(0.5), math.log(0.5)]], dtype=torch.float64)
    assert kl_divergence(teacher_log, student_log).item() == pytest.approx(math.log(2), abs=1e-15)


def test_temperature_scaling_hand_value():
    # T = 2 softens p=(1/2,1/4,1/4) to (sqrt2-1, 1-1/sqrt2, 1-1/sqrt2) and q to the mirror image;
    # KL_T = (3/sqrt2 - 2) * ln2 / 2; times T^2 = 4 gives (3 sqrt2 - 4) ln 2.
    student, teacher, targets = _hand_logits()
    kl, nll = position_losses(student[:1], teacher[:1], targets[:1], temperature=2.0)
    assert kl.item() == pytest.approx((3 * math.sqrt(2) - 4) * math.log(2), abs=1e-12)  # 0.168186...
    assert nll.item() == pytest.approx(NLL_ROW0, abs=1e-12)  # NLL ignores the temperature
    unscaled, _ = position_losses(student[:1], teacher[:1], targets[:1], temperature=1.0)
    assert unscaled.item() == pytest.approx(KL_ROW0, abs=1e-12)


def _identity_loss(alpha, temperature=1.0):
    student, teacher, targets = _hand_logits()
    cfg = DistillConfig(alpha=alpha, temperature=temperature, chunk_size=1)
    return distillation_loss(student, nn.Identity(), teacher, nn.Identity(), targets, cfg)


def test_alpha_ends_are_exact():
    nll_only, kl_only = _identity_loss(0.0), _identity_loss(1.0)
    assert torch.equal(nll_only.loss, nll_only.nll)
    assert torch.equal(kl_only.loss, kl_only.dist)
    assert kl_only.dist.item() == pytest.approx((KL_ROW0 + KL_ROW1) / 2, abs=1e-12)
    assert nll_only.nll.item() == pytest.approx((NLL_ROW0 + NLL_ROW1) / 2, abs=1e-12)
    mixed = _identity_loss(0.25)
    expected = 0.25 * (KL_ROW0 + KL_ROW1) / 2 + 0.75 * (NLL_ROW0 + NLL_ROW1) / 2
    assert mixed.loss.item() == pytest.approx(expected, abs=1e-12)


def _random_problem(n=11, hidden=8, vocab=37, seed=0):
    torch.manual_seed(seed)
    s_head = nn.Linear(hidden, vocab, bias=False).double()
    t_head = nn.Linear(hidden, vocab, bias=False).double().requires_grad_(False)
    s_hidden = torch.randn(n, hidden, dtype=torch.float64, requires_grad=True)
    t_hidden = torch.randn(n, hidden, dtype=torch.float64)
    targets = torch.randint(0, vocab, (n,))
    return s_hidden, s_head, t_hidden, t_head, targets


@pytest.mark.parametrize("temperature", [1.0, 2.0], ids=["T1", "T2"])
@pytest.mark.parametrize("checkpoint_chunks", [True, False], ids=["ckpt", "plain"])
@pytest.mark.parametrize("chunk_size", [1, 2, 4, 11, 500], ids=lambda c: f"chunk{c}")
def test_chunked_equals_unchunked(chunk_size, checkpoint_chunks, temperature):
    s_hidden, s_head, t_hidden, t_head, targets = _random_problem()
    # reference: whole logits at once, no chunking machinery at all
    kl_ref, nll_ref = position_losses(s_head(s_hidden), t_head(t_hidden), targets, temperature)
    loss_ref = 0.3 * kl_ref.mean() + 0.7 * nll_ref.mean()
    grads_ref = torch.autograd.grad(loss_ref, [s_hidden, s_head.weight])

    cfg = DistillConfig(alpha=0.3, temperature=temperature, chunk_size=chunk_size, checkpoint_chunks=checkpoint_chunks)
    out = distillation_loss(s_hidden, s_head, t_hidden, t_head, targets, cfg)
    grads = torch.autograd.grad(out.loss, [s_hidden, s_head.weight])
    torch.testing.assert_close(out.kl_per_position, kl_ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.nll_per_position, nll_ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.loss, loss_ref, rtol=0, atol=1e-12)
    for g, g_ref in zip(grads, grads_ref):
        torch.testing.assert_close(g, g_ref, rtol=0, atol=1e-12)


def test_chunks_never_materialise_full_logits():
    """The student head only ever sees `chunk_size` rows at a time (forward and recompute)."""
    s_hidden, s_head, t_hidden, t_head, targets = _random_problem(n=10)
    seen = []

    def spying_head(h):
        seen.append(h.shape[0])
        return s_head(h)

    out = distillation_loss(s_hidden, spying_head, t_hidden, t_head, targets, DistillConfig(chunk_size=3))
    out.loss.backward()
    assert max(seen) == 3
    assert sum(seen) == 2 * 10  # forward once, recomputed once in backward


def test_empty_batch_gives_zero_loss_and_backward_works():
    s_hidden, s_head, t_hidden, t_head, targets = _random_problem(n=0)
    out = distillation_loss(s_hidden, s_head, t_hidden, t_head, targets, DistillConfig())
    assert out.loss.item() == 0.0 and out.n_positions == 0
    out.loss.backward()
    assert s_hidden.grad is not None and torch.count_nonzero(s_hidden.grad) == 0


def test_teacher_side_gets_no_gradient():
    s_hidden, s_head, t_hidden, t_head, targets = _random_problem()
    t_hidden.requires_grad_(True)  # even if the caller forgot to detach
    out = distillation_loss(s_hidden, s_head, t_hidden, t_head, targets, DistillConfig(chunk_size=4))
    out.loss.backward()
    assert t_hidden.grad is None
    assert s_hidden.grad is not None and s_hidden.grad.abs().sum() > 0
