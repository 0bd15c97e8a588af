"""Helper process that owns libespeak-ng; started and spoken to by `espeak.py`, not by people.

Usage (what EspeakBackend does for you):
    python -I salad_core/tts/espeak_worker.py
    stdin : one JSON request per line  {"op": "speak", "text": ..., "voice": ..., "rate": 175, "pitch": null}
                                        {"op": "has_voice", "voice": "en-us+f3"}
    stdout: one JSON header line per request, then `n_bytes` of raw int16 samples (speak only)

Why a separate process that forks once per utterance: espeak-ng keeps synthesis state in C
statics (pitch-flutter phase, wave phase, gain) that survive between calls and cannot be reset,
so the same text spoken twice in one process gives different samples. This process loads and
initialises the library once and never synthesises itself; each request runs in a fork of that
pristine state, so output depends only on (text, voice, rate, pitch). The fork also contains a
crash or hang of the C code to one request. Standard library only: this file runs with `-I`
outside the package, and stays small so forking it costs a few milliseconds.
"""

from __future__ import annotations

import ctypes
import glob
import json
import os
import signal
import sys

# Constants from espeak-ng's speak_lib.h (API revision 12).
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000  # return an error instead of exit() when the data is missing
POS_CHARACTER = 1
CHARS_UTF8 = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
PARAM_RATE = 1
PARAM_PITCH = 3
EE_OK = 0

REQUEST_TIMEOUT_S = 120  # a single utterance that takes longer is treated as hung


class EspeakEvent(ctypes.Structure):
    """espeak_EVENT; only type, text_position and audio_position are read."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character index into the text
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds from the start of the output
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(EspeakEvent))


def library_candidates() -> list[tuple[str, str | None]]:
    """(library path, directory holding espeak-ng-data or None for the built-in one), best first.

    The Debian package comes first. The wheel that kokoro's G2P depends on (espeakng-loader)
    bundles a complete espeak-ng and is the fallback. Full paths only: another copy of the
    library with the same soname may already be loaded by misaki/phonemizer.
    """
    override = os.environ.get("SALAD_ESPEAK_LIBRARY")
    if override:
        return [(override, os.environ.get("SALAD_ESPEAK_DATA_PARENT"))]
    patterns = ("/usr/lib/*/libespeak-ng.so.1", "/usr/lib/libespeak-ng.so.1", "/usr/local/lib/libespeak-ng.so.1")
    candidates: list[tuple[str, str | None]] = [(p, None) for pattern in patterns for p in sorted(glob.glob(pattern))]
    try:
        import espeakng_loader

        bundled = espeakng_loader.get_library_path() + ".1"
        if os.path.exists(bundled):
            candidates.append((bundled, os.path.dirname(bundled)))
    except ImportError:
        pass
    return candidates


class Engine:
    def __init__(self) -> None:
        self.lib, self.library_path, data_parent = self._load()
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self.lib.espeak_Info.restype = ctypes.c_char_p
        self.lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        path = data_parent.encode() if data_parent else None
        self.sample_rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, path, INITIALIZE_DONT_EXIT)
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak-ng ({self.library_path}) failed to initialise: its data was not found")
        data_path = ctypes.c_char_p()
        self.version = self.lib.espeak_Info(ctypes.byref(data_path)).decode()
        self.data_path = (data_path.value or b"").decode()
        self.chunks: list[bytes] = []
        self.word_events: list[tuple[int, int]] = []
        self.callback = SynthCallback(self.on_audio)  # keep a reference: C holds a raw pointer
        self.lib.espeak_SetSynthCallback(self.callback)

    @staticmethod
    def _load() -> tuple[ctypes.CDLL, str, str | None]:
        for path, data_parent in library_candidates():
            try:
                return ctypes.CDLL(path), path, data_parent
            except OSError:
                continue
        raise RuntimeError("libespeak-ng.so.1 not found: install the Debian package espeak-ng (apt-get install --no-install-recommends espeak-ng)")

    def on_audio(self, wav, n_samples, events) -> int:
        """espeak-ng synth callback: collects 16-bit PCM chunks and (char index, ms) word events; returning 0 tells espeak to continue."""
        if wav and n_samples > 0:
            self.chunks.append(ctypes.string_at(wav, n_samples * 2))
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            if events[i].type == EVENT_WORD and events[i].text_position > 0:
                self.word_events.append((events[i].text_position - 1, events[i].audio_position))
            i += 1
        return 0  # 0 = continue synthesis

    def run(self, request: dict) -> tuple[dict, bytes]:
        """Serve one request; only ever called in a forked child."""
        if self.lib.espeak_SetVoiceByName(request["voice"].encode()) != EE_OK:
            return {"ok": False, "error": f"espeak-ng has no voice named {request['voice']!r}"}, b""
        if request["op"] == "has_voice":
            return {"ok": True}, b""
        self.lib.espeak_SetParameter(PARAM_RATE, int(request["rate"]), 0)
        if request.get("pitch") is not None:
            self.lib.espeak_SetParameter(PARAM_PITCH, int(request["pitch"]), 0)
        text = request["text"].encode("utf-8")
        status = self.lib.espeak_Synth(text, len(text) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        if status != EE_OK:
            return {"ok": False, "error": f"espeak_Synth returned status {status}"}, b""
        audio = b"".join(self.chunks)
        return {"ok": True, "n_bytes": len(audio), "events": self.word_events}, audio


def serve_in_fork(engine: Engine, request: dict) -> tuple[dict, bytes]:
    """Run one request in a forked child so a crash or hang (killed by alarm after REQUEST_TIMEOUT_S) costs only that request;
    never raises, returns an error header instead."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: synthesise from the pristine state, hand back, vanish
        try:
            os.close(read_fd)
            signal.alarm(REQUEST_TIMEOUT_S)
            try:
                header, audio = engine.run(request)
            except Exception as error:
                header, audio = {"ok": False, "error": f"{type(error).__name__}: {error}"}, b""
            with os.fdopen(write_fd, "wb") as out:
                out.write(json.dumps(header).encode() + b"\n" + audio)
        finally:
            os._exit(0)  # never return into the serve loop, whatever happened
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    header_line, _, audio = payload.partition(b"\n")
    if status != 0 or not header_line:
        reason = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {status}"
        return {"ok": False, "error": f"espeak-ng crashed or timed out ({reason})"}, b""
    return json.loads(header_line), audio


def main() -> None:
    """Helper process loop: writes a ready header, then answers one JSON request per stdin line with a header line plus raw audio bytes until stdin closes."""
    out = sys.stdout.buffer
    try:
        engine = Engine()
    except Exception as error:
        out.write(json.dumps({"ok": False, "error": str(error)}).encode() + b"\n")
        out.flush()
        return
    ready = {"ok": True, "sample_rate": engine.sample_rate, "version": engine.version,
             "library": engine.library_path, "data_path": engine.data_path}  # fmt: skip
    out.write(json.dumps(ready).encode() + b"\n")
    out.flush()
    for line in sys.stdin.buffer:  # EOF (the backend went away) ends the process
        header, audio = serve_in_fork(engine, json.loads(line))
        out.write(json.dumps(header).encode() + b"\n" + audio)
        out.flush()


if __name__ == "__main__":
    main()
