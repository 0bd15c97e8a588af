"""Tiny models shared by tests: a micro teacher configuration, a speech path that reproduces token embeddings."""

from torch import nn

from salad_core.teacher.config import TeacherConfig

# A teacher that pretrains in seconds on one thread; tests change only the steps they need.
MICRO_TEACHER = TeacherConfig(
    vocab_size=512,
    hidden=64,
    n_layer=1,
    n_head=4,
    n_kv_head=2,
    mlp=128,
    seq_len=64,
    batch_size=8,
    train_steps=200,
    warmup_steps=10,
    lr=3e-3,
    held_out_fraction=0.1,
    max_eval_tokens=4096,
    cpu_threads=1,
)


class TokenEmbeddingAdapter(nn.Module):
    """A 'speech' path that reproduces token embeddings: frame f carries token id latents[f, 0]."""

    def __init__(self, llm):
        super().__init__()
        self.table = llm.get_input_embeddings()

    def forward(self, latents):
        return self.table(latents[..., 0].round().long())
