"""Tiny models shared by tests: a speech path that reproduces token embeddings."""

from torch import nn


class TokenEmbeddingAdapter(nn.Module):
    """A 'speech' path that reproduces token embeddings: frame f carries token id latents[f, 0]."""

    def __init__(self, llm):
        super().__init__()
        self.table = llm.get_input_embeddings()

    def forward(self, latents):
        return self.table(latents[..., 0].round().long())
