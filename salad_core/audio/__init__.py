"""Audio in and out of the pipeline: decode any corpus file to 24 kHz mono, encode for storage.

Usage:
    from salad_core.audio import decode_audio, load_audio, encode_flac, AudioDecodeError
    audio, sr = load_audio("clip.mp3")            # float32 mono, sr == 24000
    blob = encode_flac(audio, sr)                 # bytes for a Parquet column
"""

from salad_core.audio.decode import MIMI_SAMPLE_RATE, decode_audio, load_audio
from salad_core.audio.encode import encode_flac, encode_wav
from salad_core.audio.errors import AudioDecodeError
from salad_core.audio.resample import downmix, resample

__all__ = [
    "MIMI_SAMPLE_RATE",
    "AudioDecodeError",
    "decode_audio",
    "downmix",
    "encode_flac",
    "encode_wav",
    "load_audio",
    "resample",
]
