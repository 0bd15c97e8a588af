"""The student: a causal LM whose input embeddings at speech positions come from the adapter.

Usage:
    from salad_core.model import SpeechLM, SpeechAdapter, AdapterConfig, collate_samples
    student = SpeechLM(llm, SpeechAdapter(AdapterConfig.preset("tiny").for_llm(llm.config)))
    batch = collate_samples(samples, frames=latents_per_sample).to(device)
    hidden = student.hidden_states(**batch.student_inputs())   # (B, L, llm hidden)
    logits = student(**batch.student_inputs())                  # (B, L, vocab); avoid on big vocabs

Frames in: Mimi latents (..., 512) by default. To feed stored Mimi codes instead, pass
`codes_to_latents` in Mimi's own layout: integer codes (S, n_q, F) -> float latents (S, 512, F),
e.g. `salad_core.mimi.CodesToLatents(tokenizer.model.quantizer)` or moshi's
`mimi.quantizer.decode`. (Batches keep frames time-major, (S, F, n_q); the transposes are done
here.) It runs under `torch.no_grad()` and is deliberately NOT registered as a submodule: the codec is
frozen, so its weights must stay out of `parameters()`, the optimiser and the checkpoint; the
caller places it on the right device.

Each speech span goes through the adapter on its own (positions restart at 0): the adapter turns
a piece of audio into embeddings; the context across runs is the LLM's job, and it is the same
thing that happens at evaluation when a whole question is speech.
Device and dtype follow the modules: move/cast `SpeechLM` (`.to(device, dtype)`) like any module.
"""

from collections.abc import Callable

import torch
from torch import nn

from salad_core.model.adapter import SpeechAdapter


class SpeechLM(nn.Module):
    def __init__(
        self,
        llm: nn.Module,
        adapter: SpeechAdapter,
        codes_to_latents: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ):
        super().__init__()
        self.llm = llm
        self.adapter = adapter
        object.__setattr__(self, "codes_to_latents", codes_to_latents)  # unregistered on purpose

    @property
    def head(self) -> nn.Module:
        """The LM head (hidden -> vocabulary logits); the loss applies it chunk by chunk."""
        return self.llm.get_output_embeddings()

    def speech_embeddings(self, span_frames: torch.Tensor, span_lengths: torch.Tensor) -> torch.Tensor:
        """Adapter outputs of the real frames, spans concatenated in order: (sum(lengths), hidden)."""
        if span_frames.dtype in (torch.int16, torch.int32, torch.int64, torch.uint8):
            if self.codes_to_latents is None:
                raise ValueError("integer codes given but SpeechLM has no codes_to_latents")
            with torch.no_grad():
                span_frames = self.codes_to_latents(span_frames.long().transpose(1, 2)).transpose(1, 2)
        out = self.adapter(span_frames)
        valid = torch.arange(out.shape[1], device=out.device)[None, :] < span_lengths[:, None].to(out.device)
        return out[valid]

    def input_embeddings(
        self,
        input_ids: torch.Tensor,
        speech_mask: torch.Tensor | None = None,
        span_frames: torch.Tensor | None = None,
        span_lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Token embeddings, with adapter outputs written in at the speech positions."""
        embeds = self.llm.get_input_embeddings()(input_ids)
        if speech_mask is None or not bool(speech_mask.any()):
            return embeds
        speech = self.speech_embeddings(span_frames, span_lengths).to(embeds.dtype)
        if speech.shape[0] != int(speech_mask.sum()):
            raise ValueError(f"{speech.shape[0]} speech frames for {int(speech_mask.sum())} speech positions")
        # masked_scatter fills the masked positions in row-major order and passes gradients back
        return embeds.masked_scatter(speech_mask.unsqueeze(-1), speech)

    def hidden_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        speech_mask: torch.Tensor | None = None,
        span_frames: torch.Tensor | None = None,
        span_lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Last-layer hidden states (after the final norm), (B, L, hidden); text-only if no speech."""
        embeds = self.input_embeddings(input_ids, speech_mask, span_frames, span_lengths)
        out = self.llm.base_model(inputs_embeds=embeds, attention_mask=attention_mask, use_cache=False)
        return out.last_hidden_state

    def forward(self, input_ids, attention_mask=None, speech_mask=None, span_frames=None, span_lengths=None):
        """Full logits (B, L, vocab). For training use `hidden_states` + the chunked loss instead."""
        return self.head(self.hidden_states(input_ids, attention_mask, speech_mask, span_frames, span_lengths))
