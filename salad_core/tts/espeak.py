"""espeak-ng speech through its C library: the offline default backend.

Usage:
    backend = EspeakBackend(voices=["en-us", "en-us+f3"], rate=175)
    out = backend.synthesize("The cat sat on the mat.", voice="en-us+f3")
    out.audio, out.word_timings          # 24 kHz float32, one (word, start, end) per word

Needs libespeak-ng: the Debian package `espeak-ng`, or else the copy bundled in the
`espeakng-loader` wheel that kokoro's G2P installs. Voices are espeak names, optionally with a
variant: "en", "en-us", "en-us+f3", "en+m3" (in this API "en", not "en-gb").

Why the C library (ctypes) and not the CLI: it is several times faster and reports word events
with audio positions, which become word timings. Why it runs in a helper process
(`espeak_worker.py`) that forks per utterance: the library keeps synthesis state in C statics
that no API call resets, so in-process calls are not reproducible (same text, different
samples). The helper is one per Python process and is used under a lock; it ends when this
process does.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import soxr

from salad_core.tts.interface import SAMPLE_RATE, Synthesis, TTSBackend, as_mono_float32
from salad_core.tts.voices import DEFAULT_ESPEAK_VOICES
from salad_core.tts.word_timings import words_from_anchors

RATE_MIN, RATE_MAX = 80, 450  # words per minute accepted by espeak
_WORKER_SCRIPT = Path(__file__).with_name("espeak_worker.py")


class EspeakWorker:
    """Client of the process-wide espeak helper; requests are serialised by a lock."""

    _instance: EspeakWorker | None = None
    _create_lock = threading.Lock()

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        # -I: the helper needs only the standard library (and espeakng-loader from site-packages)
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(_WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        atexit.register(self.close)
        ready = self._read_header()
        if not ready["ok"]:
            self.close()
            raise RuntimeError(ready["error"])
        self.sample_rate: int = ready["sample_rate"]
        self.version: str = ready["version"]
        self.library_path: str = ready["library"]
        self.data_path: str = ready["data_path"]

    @classmethod
    def get(cls) -> EspeakWorker:
        """The helper for this process; a forked child (Ray, multiprocessing) starts its own."""
        with cls._create_lock:
            if cls._instance is None or cls._instance.pid != os.getpid() or cls._instance.process.poll() is not None:
                cls._instance = cls()
            return cls._instance

    def _read_header(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the espeak helper process exited (code {self.process.poll()})")
        return json.loads(line)

    def request(self, **request) -> tuple[dict, bytes]:
        """Send one JSON request to the helper and wait for its header and audio bytes (empty when the header is not ok);
        serialised by a lock, so safe across threads."""
        with self.lock:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            header = self._read_header()
            audio = self.process.stdout.read(header.get("n_bytes", 0)) if header["ok"] else b""
        return header, audio

    def close(self) -> None:
        """End the helper (it exits on end of input); safe to call twice."""
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        self.process.wait(timeout=10)
        if self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()


class EspeakBackend(TTSBackend):
    """Real, intelligible (if robotic) English speech with no model weights and no network."""

    name = "espeak"

    def __init__(self, voices: list[str] | None = None, rate: int = 175, pitch: int | None = None) -> None:
        if not RATE_MIN <= rate <= RATE_MAX:
            raise ValueError(f"espeak rate must be within {RATE_MIN}..{RATE_MAX} words per minute, got {rate}")
        if pitch is not None and not 0 <= pitch <= 100:
            raise ValueError(f"espeak pitch must be within 0..100, got {pitch}")
        self._worker = EspeakWorker.get()
        self._voices = list(voices) if voices else list(DEFAULT_ESPEAK_VOICES)
        unknown = [v for v in self._voices if not self._worker.request(op="has_voice", voice=v)[0]["ok"]]
        if unknown:  # fail at construction, not on row 10,000
            raise ValueError(f"espeak-ng has no voice named {unknown} (use e.g. 'en', 'en-us', 'en-us+f3')")
        self.rate = rate
        self.pitch = pitch

    def voices(self) -> list[str]:
        """The espeak-ng voices this backend was built with, each checked to exist at construction."""
        return list(self._voices)

    def model_info(self) -> dict:
        """Manifest identity: espeak-ng's version, voices, rate and pitch; machine paths only under `local_paths`."""
        return {
            "backend": self.name,
            "model_id": "espeak-ng",
            "revision": self._worker.version,
            "local_paths": {"library": self._worker.library_path, "data": self._worker.data_path},
            "native_sample_rate": self._worker.sample_rate,
            "sample_rate": SAMPLE_RATE,
            "voices": self.voices(),
            "rate": self.rate,
            "pitch": self.pitch,
            "random_weights": False,
        }

    def synthesize(self, text: str, voice: str) -> Synthesis:
        """24 kHz mono float32 speech with word timings from espeak's word events; ValueError for a NUL in the text or an unknown
        voice, RuntimeError for other helper failures."""
        if "\0" in text:
            raise ValueError("text contains a NUL character (espeak would stop reading there)")
        header, raw = self._worker.request(op="speak", text=text, voice=voice, rate=self.rate, pitch=self.pitch)
        if not header["ok"]:
            raise (ValueError if "no voice named" in header["error"] else RuntimeError)(header["error"])
        native = np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0
        audio = as_mono_float32(soxr.resample(native, self._worker.sample_rate, SAMPLE_RATE, quality="HQ"))
        duration = len(audio) / SAMPLE_RATE
        anchors = [(char_index, ms / 1000.0, None) for char_index, ms in header["events"]]
        timings = words_from_anchors(text, anchors, duration, audio=audio, sample_rate=SAMPLE_RATE)
        return Synthesis(
            audio=audio,
            backend=self.name,
            model_id="espeak-ng",
            random_weights=False,
            voice=voice,
            word_timings=timings,
        )
