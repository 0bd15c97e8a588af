"""One batch through student and teacher to the SALAD loss.

Usage:
    from salad_core.objective.step import batch_loss
    out = batch_loss(student, teacher, batch, DistillConfig(alpha=1.0))
    out.loss.backward()

The same call serves interleaved batches and text-only replay batches (collated from
`text_only_sample`): the batch's position map says which positions count.
"""

from salad_core.model.batch import DistillBatch
from salad_core.model.speech_lm import SpeechLM
from salad_core.objective.distill import DistillConfig, DistillLoss, distillation_loss
from salad_core.objective.teacher import FrozenTeacher


def batch_loss(student: SpeechLM, teacher: FrozenTeacher, batch: DistillBatch, config: DistillConfig = DistillConfig()) -> DistillLoss:
    """The distillation loss of one batch: student and teacher hidden states gathered at aligned positions, so only matched positions reach the heads."""
    s_hidden = student.hidden_states(**batch.student_inputs())
    t_hidden = teacher.hidden_states(batch.teacher_ids, batch.teacher_attention_mask)
    return distillation_loss(
        s_hidden.flatten(0, 1)[batch.student_index],
        student.head,
        t_hidden.flatten(0, 1)[batch.teacher_index],
        teacher.head,
        batch.target_ids,
        config,
    )
