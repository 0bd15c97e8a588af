"""Speech ingest: the real clips (folder + TSV), a LibriHeavy manifest and an Emilia tar made here."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest

from salad_core.audio import decode_audio, encode_flac, load_audio
from salad_core.speech_sources import SpeechSourceConfig, UTTERANCE_SCHEMA
from tasks.speech_ingest import ingest_speech

ingest = ingest_speech.fn  # the task body, without an orchestrator


def rows_of(store, ref, columns=None):
    return store.get(ref).to_table(columns=columns).to_pylist()


def test_real_clips_ingest_and_empty_transcripts_are_quarantined(shared_data, local_store):
    folder = str(shared_data / "real_speech")
    out = ingest(SpeechSourceConfig(folder=folder, max_seconds=3, shard_rows=5), local_store.objects.config)
    kept = local_store.get(out.utterances)
    assert kept.to_table().schema == UTTERANCE_SCHEMA
    rows = kept.to_table().to_pylist()
    assert len(rows) == 13 and [s.rows for s in kept.manifest.shards] == [4, 4, 5, 0]
    for row in rows:
        audio, sr = decode_audio(row["audio"], target_sr=None)
        assert sr == row["sample_rate"] == 24_000 and abs(len(audio) / sr - row["duration_s"]) < 1e-3
        assert row["duration_s"] <= 3.0 and row["text"] and row["word_timings"] is None and row["timings_source"] is None
    quarantined = rows_of(local_store, out.quarantine)
    assert {r["id"] for r in quarantined} == {
        "librispeech-2412-153948-0001",
        "common_voice_en_651325",
        "librispeech-5703-47212-0000",
        "librispeech-3436-172162-0000",
        "librispeech-198-209-0000",
    }
    assert all(r["reason"].endswith("empty transcript") and "transcripts.tsv:" in r["reason"] for r in quarantined)
    again = ingest(SpeechSourceConfig(folder=folder, max_seconds=3, shard_rows=5), local_store.objects.config)
    assert again.reused and again.utterances == out.utterances


def test_corrupt_and_missing_audio_is_quarantined_naming_the_file(tmp_path, shared_data, local_store):
    clip = shared_data / "real_speech" / "LJ002-0020.wav"
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    (tmp_path / "transcripts.tsv").write_text(
        f'file\ttext\tspeaker\n{clip}\tIn eighteen thirteen "quoted"\tLJ\nbroken.wav\tsome words\t\nabsent.flac\tmore words\t\n'
    )
    out = ingest(SpeechSourceConfig(folder=str(tmp_path), shard_rows=2), local_store.objects.config)
    (row,) = rows_of(local_store, out.utterances)
    assert row["id"] == "LJ002-0020" and row["text"] == 'In eighteen thirteen "quoted"' and row["speaker"] == "LJ"
    reasons = {r["id"]: r["reason"] for r in rows_of(local_store, out.quarantine)}
    assert reasons["broken"].startswith("cannot decode audio from broken.wav")
    assert reasons["absent"] == f"absent.flac: file not found in {tmp_path}"


def test_libriheavy_manifest_with_remapped_recordings(tmp_path, shared_data, local_store):
    audio, _ = load_audio(shared_data / "real_speech" / "LJ001-0001.wav", target_sr=16_000)
    recording_dir = tmp_path / "librilight" / "small" / "100" / "book"
    recording_dir.mkdir(parents=True)
    (recording_dir / "ch01.flac").write_bytes(encode_flac(audio, 16_000))
    rec = {
        "id": "100/book/ch01",
        "sources": [{"type": "file", "channels": [0], "source": "download/librilight/small/100/book/ch01.flac"}],
        "sampling_rate": 16000,
        "num_samples": len(audio),
        "duration": len(audio) / 16000,
        "channel_ids": [0],
    }
    alignment = {"word": [{"symbol": "Printing,", "start": 0.1, "duration": 0.5}, {"symbol": "late", "start": 2.5, "duration": 0.4}]}
    cuts = [
        {
            "id": "100/book/ch01-0",
            "start": 0.0,
            "duration": 2.0,
            "channel": 0,
            "recording": rec,
            "supervisions": [
                {
                    "id": "s0",
                    "recording_id": rec["id"],
                    "start": 0,
                    "duration": 2.0,
                    "channel": 0,
                    "text": "PRINTING IN THE ONLY SENSE",
                    "speaker": "100",
                    "alignment": alignment,
                }
            ],
            "custom": {"texts": ["Printing, in the only sense", "PRINTING IN THE ONLY SENSE"]},
            "type": "MonoCut",
        },
        {
            "id": "100/book/ch01-1",
            "start": 4.0,
            "duration": 3.5,
            "channel": 0,
            "recording": rec,
            "supervisions": [
                {
                    "id": "s1",
                    "recording_id": rec["id"],
                    "start": 0,
                    "duration": 3.5,
                    "channel": 0,
                    "text": "WITH WHICH WE ARE AT PRESENT CONCERNED",
                    "speaker": "100",
                }
            ],
            "type": "MonoCut",
        },
        {
            "id": "200/gone/ch09-0",
            "start": 0.0,
            "duration": 1.0,
            "channel": 0,
            "recording": {**rec, "sources": [{"type": "file", "channels": [0], "source": "download/librilight/small/200/gone.flac"}]},
            "supervisions": [{"id": "s2", "start": 0, "duration": 1.0, "text": "LOST", "speaker": "200"}],
            "type": "MonoCut",
        },
    ]
    manifest = tmp_path / "libriheavy_cuts_small.jsonl.gz"
    with gzip.open(manifest, "wt") as f:
        f.write("\n".join(json.dumps(c) for c in cuts) + "\n")
    config = SpeechSourceConfig(
        kind="libriheavy", paths=[str(tmp_path / "libriheavy_cuts_*.jsonl.gz")], path_remap={"download/librilight": str(tmp_path / "librilight")}
    )
    out = ingest(config, local_store.objects.config)
    first, second = rows_of(local_store, out.utterances)
    assert first["text"] == "Printing, in the only sense" and first["speaker"] == "100" and first["source"] == "libriheavy"
    assert first["duration_s"] == pytest.approx(2.0, abs=1e-3) and second["duration_s"] == pytest.approx(3.5, abs=1e-3)
    # only the word inside the cut's 2 s keeps its timing; they come from the manifest, not an aligner
    assert first["word_timings"] == [{"word": "Printing,", "start": 0.1, "end": pytest.approx(0.6)}] and first["timings_source"] == "source"
    assert second["text"] == "WITH WHICH WE ARE AT PRESENT CONCERNED" and second["timings_source"] is None
    expected = audio[64_000 : 64_000 + 56_000]  # the 4.0..7.5 s offset into the 16 kHz recording
    got, _ = decode_audio(second["audio"], target_sr=16_000)
    assert abs(len(got) - len(expected)) <= 2
    (bad,) = rows_of(local_store, out.quarantine)
    assert bad["id"] == "200/gone/ch09-0" and "recording not found" in bad["reason"] and "gone.flac" in bad["reason"]


def _tar(path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_emilia_tar_loads_with_id_or__id_and_quarantines_broken_samples(tmp_path, shared_data, local_store):
    mp3 = (shared_data / "real_speech" / "common_voice_en_651325.mp3").read_bytes()

    def meta(**kw):
        return json.dumps({"text": "Hello there.", "duration": 3.1, "speaker": "EN_B00000_S00001", "language": "en", "dnsmos": 3.2, **kw}).encode()

    _tar(
        tmp_path / "EN-B000000.tar",
        [
            ("EN_B00000_S00001_W000000.mp3", mp3),
            ("EN_B00000_S00001_W000000.json", meta(id="EN_B00000_S00001_W000000")),
            ("EN_B00000_S00001_W000001.json", meta(_id="yodas_id_1")),
            ("EN_B00000_S00001_W000001.mp3", mp3),
            ("EN_B00000_S00001_W000002.mp3", b"\xff\xfb\x90not an mp3 at all"),
            ("EN_B00000_S00001_W000002.json", meta(id="bad")),
            ("EN_B00000_S00001_W000003.json", meta(id="no-audio")),
        ],
    )
    out = ingest(SpeechSourceConfig(kind="emilia", paths=[str(tmp_path / "*.tar")]), local_store.objects.config)
    rows = rows_of(local_store, out.utterances, ["id", "speaker", "text", "duration_s", "source"])
    assert [r["id"] for r in rows] == ["EN_B00000_S00001_W000000", "yodas_id_1"]
    assert all(r["speaker"] == "EN_B00000_S00001" and r["text"] == "Hello there." and r["duration_s"] > 1 for r in rows)
    reasons = {r["id"]: r["reason"] for r in rows_of(local_store, out.quarantine)}
    assert reasons["bad"].startswith("cannot decode audio from EN-B000000.tar:EN_B00000_S00001_W000002.mp3")
    assert "EN-B000000.tar:EN_B00000_S00001_W000003: incomplete sample" in reasons["EN-B000000.tar:EN_B00000_S00001_W000003"]
