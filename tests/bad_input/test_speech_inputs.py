"""Bad natural-speech input (folder + TSV): each bad line or clip is quarantined with its exact
reason naming the file (and line); the good clips are kept; a transcript file that cannot be read
at all fails the stage naming it, with nothing committed.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/bad_input/test_speech_inputs.py -q
"""

from __future__ import annotations

import numpy as np
import pytest

from salad_core.audio import encode_flac, encode_wav, load_audio
from salad_core.speech_sources import SpeechSourceConfig, reason_kind
from tasks.speech_ingest import ingest_speech
from tests.bad_input.helpers import assert_nothing_committed
from tests.ctc_models import REAL_FRAME_RATE, save_tiny_ctc_model

ingest = ingest_speech.fn
SR = 24_000
GOOD = "LJ002-0020.wav"  # 1.54 s, "In eighteen thirteen"


@pytest.fixture
def speech(shared_data) -> np.ndarray:
    """LJ001-0001 at 24 kHz (9.65 s of read speech)."""
    return load_audio(shared_data / "real_speech" / "LJ001-0001.wav")[0]


def run(folder, store, tsv: str | bytes, **kw):
    data = tsv.encode() if isinstance(tsv, str) else tsv
    (folder / "transcripts.tsv").write_bytes(data)
    out = ingest(SpeechSourceConfig(folder=str(folder), **kw), store.objects.config)
    kept = [r["id"] for r in store.get(out.utterances).to_table(columns=["id"]).to_pylist()]
    reasons = {r["id"]: r["reason"] for r in store.get(out.quarantine).to_table().to_pylist()}
    return kept, reasons


@pytest.fixture
def folder(tmp_path, shared_data):
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / GOOD).write_bytes((shared_data / "real_speech" / GOOD).read_bytes())
    return clips


def test_a_tab_inside_a_transcript_quarantines_the_line_naming_file_and_line(folder, local_store):
    (folder / "x.wav").write_bytes((folder / GOOD).read_bytes())
    tsv = f"file\ttext\tspeaker\n{GOOD}\tIn eighteen thirteen\tLJ\nx.wav\tThe first half\tthe second half\tLJ\n"
    kept, reasons = run(folder, local_store, tsv)
    assert kept == ["LJ002-0020"]
    assert reasons == {"x": "malformed transcript line: transcripts.tsv:3: 4 tab-separated fields, the header has 3 (a tab inside a field, or a field missing)"}


def test_a_line_missing_a_field_is_quarantined_not_padded(folder, local_store):
    (folder / "x.wav").write_bytes((folder / GOOD).read_bytes())
    kept, reasons = run(folder, local_store, f"file\ttext\tspeaker\n{GOOD}\tIn eighteen thirteen\tLJ\nx.wav\tonly the text\n")
    assert kept == ["LJ002-0020"]
    assert reasons == {"x": "malformed transcript line: transcripts.tsv:3: 2 tab-separated fields, the header has 3 (a tab inside a field, or a field missing)"}


def test_a_non_utf8_line_is_quarantined_naming_file_and_line_and_the_rest_is_read(folder, local_store):
    (folder / "cafe.wav").write_bytes((folder / GOOD).read_bytes())
    tsv = b"file\ttext\n" + GOOD.encode() + b"\tIn eighteen thirteen\ncafe.wav\tcaf\xe9 au lait\n"
    kept, reasons = run(folder, local_store, tsv)
    assert kept == ["LJ002-0020"]
    assert reasons == {"cafe": "transcript line is not UTF-8: transcripts.tsv:3: invalid byte 0xe9 at byte 12"}


def test_same_stem_in_two_formats_is_a_clash_naming_both_sources(folder, local_store, speech):
    (folder / "LJ001-0001.wav").write_bytes(encode_wav(speech, SR))
    (folder / "LJ001-0001.flac").write_bytes(encode_flac(speech, SR))
    tsv = f"file\ttext\n{GOOD}\tIn eighteen thirteen\nLJ001-0001.wav\tPrinting in the only sense\nLJ001-0001.flac\tPrinting in the only sense\n"
    kept, reasons = run(folder, local_store, tsv)
    assert kept == ["LJ002-0020"]
    both = "duplicate id 'LJ001-0001': 2 lines give it: LJ001-0001.wav (transcripts.tsv:3), LJ001-0001.flac (transcripts.tsv:4)"
    assert reasons == {"LJ001-0001": both}


@pytest.mark.parametrize(
    ("seconds", "text", "expected"),
    [
        (0.2, "four words right here", "too short for the text: 0.050 s per word (minimum 0.1)"),
        (0.02, "Yes", "0.020 s long (minimum 0.1 s); too short for the text: 0.020 s per word (minimum 0.1)"),
    ],
    ids=["0.2s-four-words", "20ms"],
)
def test_clips_too_short_for_their_transcript_are_quarantined(folder, local_store, speech, seconds, text, expected):
    (folder / "short.wav").write_bytes(encode_wav(speech[SR : SR + int(seconds * SR)], SR))
    kept, reasons = run(folder, local_store, f"file\ttext\n{GOOD}\tIn eighteen thirteen\nshort.wav\t{text}\n")
    assert kept == ["LJ002-0020"] and reasons == {"short": f"implausible clip: transcripts.tsv:3 (short.wav): {expected}"}


def test_a_long_silent_file_with_a_transcript_is_quarantined_before_alignment(folder, local_store, tmp_path):
    aligner = save_tiny_ctc_model(tmp_path / "aligner", upper=True, conv=REAL_FRAME_RATE)
    hiss = np.random.default_rng(0).normal(0, 1e-4, 180 * SR).astype(np.float32)  # 3 minutes at -80 dBFS
    (folder / "silent.wav").write_bytes(encode_wav(hiss, SR))
    words = "the speaker said these twenty words but the recording holds nothing at all except a faint hiss from the room"
    kept, reasons = run(folder, local_store, f"file\ttext\n{GOOD}\tIn eighteen thirteen\nsilent.wav\t{words}\n", aligner_model_path=str(aligner))
    assert kept == ["LJ002-0020"]
    assert reasons == {
        "silent": "implausible clip: transcripts.tsv:3 (silent.wav): too long for the text: 9.000 s per word "
        "(maximum 3.0); mostly silence: 100% of frames below -40 dBFS (maximum 90%)"
    }


def test_truncated_and_random_audio_are_quarantined_naming_the_file(folder, local_store, shared_data):
    whole = (shared_data / "real_speech" / "LJ001-0001.wav").read_bytes()
    (folder / "half.wav").write_bytes(whole[: len(whole) // 2])
    (folder / "noise.flac").write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    kept, reasons = run(folder, local_store, f"file\ttext\n{GOOD}\tIn eighteen thirteen\nhalf.wav\tPrinting\nnoise.flac\tNoise\n")
    assert kept == ["LJ002-0020"]
    assert reasons == {
        "half": "cannot decode audio from half.wav: truncated: the RIFF chunk declares 425822 bytes but only 212907 are present",
        "noise": reasons["noise"],
    }
    # libsndfile's own words for random bytes vary by version ("Format not recognised", "... possibly a pipe?")
    assert reasons["noise"].startswith("cannot decode audio from noise.flac: libsndfile could not read it: ")


def test_missing_files_and_empty_transcripts_are_quarantined(folder, local_store):
    (folder / "quiet.wav").write_bytes((folder / GOOD).read_bytes())
    kept, reasons = run(folder, local_store, f"file\ttext\n{GOOD}\tIn eighteen thirteen\nabsent.flac\tSome words\nquiet.wav\t  \n")
    assert kept == ["LJ002-0020"]
    assert reasons == {"absent": f"absent.flac: file not found in {folder}", "quiet": "transcripts.tsv:4 (quiet.wav): empty transcript"}


def test_an_unreadable_transcript_file_fails_the_stage_naming_it(folder, local_store, tmp_path):
    (folder / "transcripts.tsv").write_bytes(b"fi\xe9le\ttext\n")
    with pytest.raises(ValueError, match=r"transcripts.tsv:1: the header row is not UTF-8 \(byte 2\)"):
        ingest(SpeechSourceConfig(folder=str(folder)), local_store.objects.config)
    (folder / "transcripts.tsv").write_text("path\ttranscript\n")
    with pytest.raises(ValueError, match=r"transcripts.tsv: header has no column\(s\) \['file', 'text'\]"):
        ingest(SpeechSourceConfig(folder=str(folder)), local_store.objects.config)
    assert_nothing_committed(local_store, tmp_path / "store")


def test_every_reason_counts_under_its_kind_not_its_file_or_id(folder, local_store, speech):
    for name in ("a.wav", "a.flac", "short.wav", "tab.wav"):
        (folder / name).write_bytes(encode_wav(speech[SR : SR + SR // 50], SR))
    (folder / "transcripts.tsv").write_bytes(
        b"file\ttext\n" + GOOD.encode() + b"\tIn eighteen thirteen\na.wav\tOne\na.flac\tOne\nshort.wav\tfour words right here\n"
        b"tab.wav\tpart\tmore\nlatin.wav\tcaf\xe9\nabsent.wav\tWords\n"
    )
    out = ingest(SpeechSourceConfig(folder=str(folder)), local_store.objects.config)
    kinds = sorted(reason_kind(r["reason"]) for r in local_store.get(out.quarantine).to_table().to_pylist())
    assert kinds == [
        "duplicate id",
        "duplicate id",
        "file not found",
        "implausible clip",
        "malformed transcript line",
        "transcript line is not UTF-8",
    ]


def test_an_emilia_sample_in_two_tars_is_kept_once_and_the_copy_names_both(tmp_path, local_store, shared_data):
    import io
    import json
    import tarfile

    mp3 = (shared_data / "real_speech" / "common_voice_en_651325.mp3").read_bytes()
    meta = json.dumps({"id": "EN_B00000_S00001_W000000", "text": "Hello there.", "speaker": "S1", "language": "en"}).encode()
    for shard in ("EN-B000000.tar", "EN-B000001.tar"):
        with tarfile.open(tmp_path / shard, "w") as tar:
            for name, data in (("EN_B00000_S00001_W000000.mp3", mp3), ("EN_B00000_S00001_W000000.json", meta)):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    out = ingest(SpeechSourceConfig(kind="emilia", paths=[str(tmp_path / "*.tar")]), local_store.objects.config)
    assert [r["id"] for r in local_store.get(out.utterances).to_table(columns=["id"]).to_pylist()] == ["EN_B00000_S00001_W000000"]
    (copy,) = local_store.get(out.quarantine).to_table().to_pylist()
    assert copy["reason"] == (
        "duplicate id 'EN_B00000_S00001_W000000': EN-B000001.tar:EN_B00000_S00001_W000000.mp3 repeats the id first seen at "
        "EN-B000000.tar:EN_B00000_S00001_W000000.mp3"
    )
