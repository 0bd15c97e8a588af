"""Forced alignment: word timings for a transcript from a local CTC model.

Usage:
    from salad_core.alignment import AlignmentError, CTCWordAligner
    aligner = CTCWordAligner("models/wav2vec2-base-960h", device="cpu")
    timings = aligner.align(audio_24k, "the transcript")   # [{"word", "start", "end"}, ...]

``ctc_viterbi`` is the model-free part (the best CTC path of a token sequence through log-probs),
``aligner`` the model and transcript handling. Speech ingest uses it when a source has no word
timings of its own. torch and transformers load only when an aligner is built.
"""

from salad_core.alignment.aligner import CTCWordAligner
from salad_core.alignment.ctc_viterbi import AlignmentError, TokenSpan, forced_align, frames_needed

__all__ = ["AlignmentError", "CTCWordAligner", "TokenSpan", "forced_align", "frames_needed"]
