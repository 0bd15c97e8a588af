"""One model identity: machine facts (paths, device) never change a fingerprint; content does."""

from salad_core.model_identity import info_sha256, model_entry, portable_info
from tasks.tts import model_identity


def test_machine_facts_are_left_out_and_content_counts():
    here = {"backend": "kokoro", "model_id": "hexgrad/Kokoro-82M", "weights_sha256": "ab" * 32, "device": "cpu", "local_paths": ["/a"]}
    there = {**here, "device": "cuda:1", "local_paths": ["/mnt/models/kokoro"]}
    assert portable_info(here) == portable_info(there) and info_sha256(here) == info_sha256(there)
    assert info_sha256({**here, "weights_sha256": "cd" * 32}) != info_sha256(here)
    entry = model_entry("tts", "kokoro:hexgrad/Kokoro-82M@main", here)
    assert set(entry) == {"tts", "tts_info_sha256"} and len(entry["tts_info_sha256"]) == 16
    assert model_identity({**here, "revision": "main"}) == model_identity({**there, "revision": "main"})
