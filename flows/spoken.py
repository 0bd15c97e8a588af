"""One step the flows share: a text selection turned into gated speech and Mimi codes.

    spoken = speak(texts_ref, "probe_speech", config.tts, config.gate, config.tokenize, store, mimi_weights)
    spoken.source()    # SourceRefs(codes, transcripts): what training and scoring read

Artifacts: `<name>` (audio, word timings), `<name>_quarantine`, the gate's `<name>_gated` /
`<name>_gate_quarantine` / `<name>_quality` (/ `<name>_gate_clusters` when rows carry a cluster),
and `<name>_codes` (+ `_quarantine`) for the rows that passed. All speech of one run shares one
Mimi tokenizer: pass the `mimi_weights` of the first tokenization to the next ones.
"""

from __future__ import annotations

from pydantic import BaseModel

from storage import ArtifactRef, StoreConfig
from tasks.checkpoint_store import SourceRefs
from tasks.quality_gate import GateOutputs, gate_speech
from tasks.quality_gate_config import QualityGateConfig
from tasks.tokenize import TokenizeOutputs, tokenize_speech
from tasks.tokenize_config import TokenizeConfig
from tasks.tts import SynthesisOutputs, synthesize_speech
from tasks.tts_config import SynthesisConfig


class SpokenOutputs(BaseModel):
    """A text selection turned into speech, gated and tokenized."""

    speech: SynthesisOutputs
    gate: GateOutputs
    codes: TokenizeOutputs

    def source(self) -> SourceRefs:
        """The training/scoring view: codes + the artifact holding their transcripts and word timings."""
        return SourceRefs(codes=self.codes.codes, transcripts=self.speech.speech)


def speak(
    texts: ArtifactRef,
    name: str,
    tts: SynthesisConfig,
    gate: QualityGateConfig,
    tokenize: TokenizeConfig,
    store: StoreConfig,
    mimi_weights: ArtifactRef | None = None,
) -> SpokenOutputs:
    """Synthesise every row of `texts` into `<name>`, gate it, and tokenize what passed into `<name>_codes`."""
    speech = synthesize_speech(texts, tts.model_copy(update={"output_name": name, "limit": None, "sample_seed": None}), store)
    gated = gate_speech(speech.speech, gate, store)
    shared = {"weights_artifact": str(mimi_weights)} if mimi_weights and not tokenize.weights_artifact else {}
    codes = tokenize_speech(speech.speech, tokenize.model_copy(update={"output_name": f"{name}_codes", **shared}), store, keep=gated.gated)
    return SpokenOutputs(speech=speech, gate=gated, codes=codes)
