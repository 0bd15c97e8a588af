"""Speech ingest from s3:// inputs on a real S3 server (moto, as a separate process on 127.0.0.1).

Why: the real corpora live in buckets — LibriHeavy manifests whose recordings are remapped to
``s3://…/librilight`` and read by seeking into each FLAC, Emilia tars streamed from ``s3://`` globs
— and the local-file tests cannot show that the fsspec paths, globbing, seeking and error
handling hold on S3. Each test uploads a tiny corpus (real clips, cropped) that it also reads from
local files, and checks:

* the same rows from S3 as from disk (ids, texts, durations, audio bytes), with the endpoint from
  ``storage_options`` and the credentials from the environment (a config refuses credentials: they
  would be stored in Prefect's database), neither ever stored;
* a cut deep into a long recording costs a fraction of the recording in bytes fetched;
* a missing recording, and a cut running past its recording's end, quarantined naming the s3:// path;
* a connection dropped in the middle of a recording fails the stage (a rerun resumes) instead of
  quarantining a good row for good;
* a glob matching nothing, or a missing file, is a clear error; a tar added to the bucket makes a
  new version within the same process (no stale fsspec listing).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import uuid
from pathlib import Path

import numpy as np
import pytest
import s3fs
import soundfile as sf

from salad_core.audio import decode_audio, encode_flac, load_audio
from salad_core.speech_sources import SpeechSourceConfig
from storage import ArtifactStore
from tasks.speech_ingest import ingest_speech
from tests.conftest import BUCKET

ingest = ingest_speech.fn  # the task body, without an orchestrator
# moto checks no signature, so these credentials are made up: distinctive strings to look for
ACCESS_KEY = "AKIASPEECHINGESTTEST"
SECRET_KEY = "speech-ingest-secret-9f3c2a7e51b04d68"


@pytest.fixture
def s3(moto_endpoint, monkeypatch):
    """(storage_options, boto3 client, a fresh key prefix): the endpoint in the options, the credentials
    in the environment only (no AWS_ENDPOINT_URL: the options must be what reaches the server)."""
    for name in moto_endpoint.env():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    options = {"client_kwargs": {"endpoint_url": moto_endpoint.endpoint_url, "region_name": moto_endpoint.region}}
    return options, moto_endpoint.boto3_client(), f"speech-{uuid.uuid4().hex[:8]}"


def upload(client, folder: Path, prefix: str) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        client.put_object(Bucket=BUCKET, Key=f"{prefix}/{path.relative_to(folder).as_posix()}", Body=path.read_bytes())


def store_files_containing(store: ArtifactStore, needle: str) -> list[str]:
    root = Path(store.objects.root)
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


# ---------------------------------------------------------------------------------------------
# LibriHeavy: two manifests, FLAC recordings under librilight/ (one of two minutes, so a cut deep
# into it needs a seek), a recording missing, a cut running past the end of its recording

LONG = "small/100/book/ch01.flac"  # LJ001-0001 twelve times: 116 s, about 2.4 MB of FLAC
SHORT = "small/200/tale/ch02.flac"  # LJ001-0002 cropped to 1.9 s


def _recording(source: Path, seconds: float, repeat: int = 1, sr: int = 16_000) -> tuple[np.ndarray, dict]:
    audio, _ = load_audio(source, target_sr=sr)
    audio = np.tile(audio[: int(seconds * sr)], repeat)
    return audio, {"sampling_rate": sr, "num_samples": len(audio), "duration": len(audio) / sr, "channel_ids": [0]}


def _cut(cut_id: str, rel: str, start: float, duration: float, text: str, rec_info: dict, **extra) -> dict:
    rec = {"id": rel.rsplit(".", 1)[0], "sources": [{"type": "file", "channels": [0], "source": f"download/librilight/{rel}"}], **rec_info}
    sup = {
        "id": f"{cut_id}-sup",
        "recording_id": rec["id"],
        "start": 0,
        "duration": duration,
        "channel": 0,
        "text": text,
        "speaker": cut_id.split("/")[0],
        **extra.pop("supervision", {}),
    }
    return {"id": cut_id, "start": start, "duration": duration, "channel": 0, "recording": rec, "supervisions": [sup], "type": "MonoCut", **extra}


@pytest.fixture(scope="module")
def libriheavy_corpus(tmp_path_factory, shared_data) -> Path:
    """corpus/manifests/libriheavy_cuts_{a,b}.jsonl.gz + corpus/librilight/small/…/*.flac."""
    root = tmp_path_factory.mktemp("libriheavy") / "corpus"
    clips = shared_data / "real_speech"
    info = {}
    for rel, (source, seconds, repeat) in {LONG: (clips / "LJ001-0001.wav", 9.655, 12), SHORT: (clips / "LJ001-0002.wav", 1.9, 1)}.items():
        audio, info[rel] = _recording(source, seconds, repeat)
        (root / "librilight" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "librilight" / rel).write_bytes(encode_flac(audio, 16_000))
    alignment = {"word": [{"symbol": "Printing,", "start": 0.1, "duration": 0.5}, {"symbol": "in", "start": 1.4, "duration": 0.3}]}
    manifests = {
        "libriheavy_cuts_a.jsonl.gz": [
            _cut(
                "100/book/ch01-0",
                LONG,
                0.0,
                1.5,
                "PRINTING IN",
                info[LONG],
                supervision={"alignment": alignment},
                custom={"texts": ["Printing, in", "PRINTING IN"]},
            ),
            _cut("100/book/ch01-1", LONG, 100.0, 1.75, "THE ONLY SENSE", info[LONG]),
        ],
        "libriheavy_cuts_b.jsonl.gz": [
            _cut("200/tale/ch02-0", SHORT, 0.2, 1.2, "IN BEING COMPARATIVELY", info[SHORT]),
            _cut("200/tale/ch02-1", SHORT, 1.5, 1.0, "MODERN", info[SHORT]),  # the recording ends 0.4 s in
            _cut("300/gone/ch09-0", "small/300/gone/ch09.flac", 0.0, 1.0, "LOST", info[SHORT]),
        ],
    }
    (root / "manifests").mkdir()
    for name, cuts in manifests.items():
        with gzip.open(root / "manifests" / name, "wt") as f:
            f.write("".join(json.dumps(c) + "\n" for c in cuts))
    return root


def libriheavy_configs(corpus: Path, prefix: str, options: dict) -> tuple[SpeechSourceConfig, SpeechSourceConfig]:
    local = SpeechSourceConfig(
        kind="libriheavy", paths=[str(corpus / "manifests" / "libriheavy_cuts_*.jsonl.gz")], path_remap={"download/librilight": str(corpus / "librilight")}
    )
    remote = SpeechSourceConfig(
        kind="libriheavy",
        paths=[f"s3://{BUCKET}/{prefix}/manifests/libriheavy_cuts_*.jsonl.gz"],
        path_remap={"download/librilight": f"s3://{BUCKET}/{prefix}/librilight"},
        storage_options=options,
    )
    return local, remote


def test_libriheavy_from_s3_gives_the_rows_of_local_files(s3, libriheavy_corpus, local_store, monkeypatch):
    options, client, prefix = s3
    upload(client, libriheavy_corpus, prefix)
    local, remote = libriheavy_configs(libriheavy_corpus, prefix, options)
    fetched: dict[str, int] = {}  # bytes read from S3 per object
    fetch = s3fs.core.S3File._fetch_range

    def counting_fetch(self, start, end):
        fetched[self.path] = fetched.get(self.path, 0) + end - start
        return fetch(self, start, end)

    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", counting_fetch)
    from_disk, from_s3 = ingest(local, local_store.objects.config), ingest(remote, local_store.objects.config)
    assert from_s3.utterances.fingerprint != from_disk.utterances.fingerprint  # other inputs, other version

    got = local_store.get(from_s3.utterances).to_table()
    rows = got.to_pylist()
    assert [(r["id"], r["text"], r["speaker"]) for r in rows] == [
        ("100/book/ch01-0", "Printing, in", "100"),
        ("100/book/ch01-1", "THE ONLY SENSE", "100"),
        ("200/tale/ch02-0", "IN BEING COMPARATIVELY", "200"),
    ]
    assert [r["duration_s"] for r in rows] == pytest.approx([1.5, 1.75, 1.2], abs=1e-3)
    assert rows[0]["word_timings"] == [{"word": "Printing,", "start": 0.1, "end": pytest.approx(0.6)}]
    # the seek into the recording on S3 lands where it does on disk: identical rows, audio bytes included
    assert got.equals(local_store.get(from_disk.utterances).to_table())
    recording, _ = load_audio(libriheavy_corpus / "librilight" / LONG, target_sr=16_000)
    second, _ = decode_audio(rows[1]["audio"], target_sr=16_000)
    expected = recording[1_600_000 : 1_600_000 + 28_000]  # 100.0 .. 101.75 s of the 16 kHz recording
    n = min(len(second), len(expected))
    assert abs(len(second) - len(expected)) <= 2 and np.corrcoef(second[:n], expected[:n])[0, 1] > 0.99
    # two cuts of 1.5 and 1.75 s cost well under the 2.4 MB recording (s3fs's default block fetched it whole per cut)
    size = (libriheavy_corpus / "librilight" / LONG).stat().st_size
    assert 0 < fetched[f"{BUCKET}/{prefix}/librilight/{LONG}"] < size / 2, (fetched, size)

    # the missing recording and the cut past its recording's end are quarantined, naming the s3:// path
    reasons = {r["id"]: r["reason"] for r in local_store.get(from_s3.quarantine).to_table().to_pylist()}
    assert sorted(reasons) == ["200/tale/ch02-1", "300/gone/ch09-0"]
    assert reasons["300/gone/ch09-0"] == (
        f"cannot decode audio from libriheavy_cuts_b.jsonl.gz:3 (s3://{BUCKET}/{prefix}/librilight/small/300/gone/ch09.flac): recording not found"
    )
    assert reasons["200/tale/ch02-1"] == (
        f"cannot decode audio from libriheavy_cuts_b.jsonl.gz:2 (s3://{BUCKET}/{prefix}/librilight/{SHORT}): the recording ends 0.400 s into the cut of 1 s"
    )
    counted = local_store.get(from_s3.utterances).manifest.stats["quarantine_reasons_this_run"]
    assert counted == {"recording not found": 1, "recording shorter than the cut": 1}
    disk_reasons = {r["id"]: r["reason"] for r in local_store.get(from_disk.quarantine).to_table().to_pylist()}
    assert {k: v.replace(str(libriheavy_corpus), f"s3://{BUCKET}/{prefix}") for k, v in disk_reasons.items()} == reasons

    # storage_options and credentials are not content: other ones, the same version; and none is stored
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOTHERKEY")
    other = remote.model_copy(update={"storage_options": {**options, "default_block_size": 1 << 20}})
    again = ingest(other, local_store.objects.config)
    assert again.reused and again.utterances == from_s3.utterances
    manifest = local_store.objects.read_bytes(f"utterances/{from_s3.utterances.fingerprint}/manifest.json").decode()
    assert f"s3://{BUCKET}/{prefix}/manifests/libriheavy_cuts_a.jsonl.gz" in manifest  # the inputs are recorded …
    endpoint = options["client_kwargs"]["endpoint_url"]
    assert endpoint not in manifest and "storage_options" not in manifest  # … but not how to reach them
    assert store_files_containing(local_store, SECRET_KEY) == [] and store_files_containing(local_store, ACCESS_KEY) == []


def test_connection_lost_mid_recording_fails_the_stage_instead_of_quarantining(s3, libriheavy_corpus, local_store, monkeypatch):
    """libsndfile reads through C callbacks that swallow exceptions; the reader must not turn a
    dropped connection into "undecodable audio", which a committed version would keep for good."""
    options, client, prefix = s3
    upload(client, libriheavy_corpus, prefix)
    _, remote = libriheavy_configs(libriheavy_corpus, prefix, options)
    fetch = s3fs.core.S3File._fetch_range

    def dropping_fetch(self, start, end):
        if self.path.endswith(LONG) and start > 0:  # the header block arrives, the seek target does not
            raise ConnectionResetError(104, "Connection reset by peer")
        return fetch(self, start, end)

    with monkeypatch.context() as patched:
        patched.setattr(s3fs.core.S3File, "_fetch_range", dropping_fetch)
        with pytest.raises(ConnectionResetError, match="Connection reset by peer"):
            ingest(remote, local_store.objects.config)
    assert local_store.names() == []  # nothing committed, not even a quarantine
    out = ingest(remote, local_store.objects.config)  # the connection is back: the rerun gets every row
    assert local_store.get(out.utterances).num_rows == 3 and local_store.get(out.quarantine).num_rows == 2


# ---------------------------------------------------------------------------------------------
# Emilia: WebDataset tars from an s3:// glob


def _tar(path: Path, members: list[tuple[str, bytes]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _meta(**kw) -> bytes:
    return json.dumps({"text": "Hello there.", "duration": 3.1, "speaker": "EN_B00000_S00001", "language": "en", **kw}).encode()


def _short_mp3(source: Path, seconds: float) -> bytes:
    audio, sr = load_audio(source, target_sr=16_000)
    buffer = io.BytesIO()
    sf.write(buffer, audio[: int(seconds * sr)], sr, format="MP3")
    return buffer.getvalue()


def test_emilia_tars_from_an_s3_glob_give_the_rows_of_local_files(s3, tmp_path, shared_data, local_store):
    options, client, prefix = s3
    mp3 = (shared_data / "real_speech" / "common_voice_en_651325.mp3").read_bytes()
    corpus = tmp_path / "Emilia" / "EN"
    _tar(
        corpus / "EN-B000000.tar",
        [
            ("EN_B00000_S00001_W000000.mp3", mp3),
            ("EN_B00000_S00001_W000000.json", _meta(id="EN_B00000_S00001_W000000")),
            ("EN_B00000_S00001_W000001.json", _meta(_id="yodas_id_1", text="General Kenobi.")),
            ("EN_B00000_S00001_W000001.mp3", _short_mp3(shared_data / "real_speech" / "LJ002-0035.wav", 1.0)),
            ("EN_B00000_S00001_W000002.json", _meta(id="no-audio")),
        ],
    )
    upload(client, tmp_path / "Emilia", f"{prefix}/Emilia")
    local = SpeechSourceConfig(kind="emilia", paths=[str(corpus / "*.tar")])
    remote = SpeechSourceConfig(kind="emilia", paths=[f"s3://{BUCKET}/{prefix}/Emilia/EN/*.tar"], storage_options=options)
    from_disk, from_s3 = ingest(local, local_store.objects.config), ingest(remote, local_store.objects.config)

    got = local_store.get(from_s3.utterances).to_table()
    assert [(r["id"], r["text"]) for r in got.select(["id", "text"]).to_pylist()] == [
        ("EN_B00000_S00001_W000000", "Hello there."),
        ("yodas_id_1", "General Kenobi."),
    ]
    assert got.column("duration_s").to_pylist()[1] == pytest.approx(1.0, abs=0.06)  # mp3 encoder padding
    assert got.equals(local_store.get(from_disk.utterances).to_table())
    (incomplete,) = local_store.get(from_s3.quarantine).to_table().to_pylist()
    assert "EN-B000000.tar:EN_B00000_S00001_W000002: incomplete sample" in incomplete["reason"]
    assert store_files_containing(local_store, SECRET_KEY) == [] and store_files_containing(local_store, ACCESS_KEY) == []

    # a tar added to the bucket is a new input: a new version, seen without restarting the process
    _tar(
        tmp_path / "more" / "EN-B000001.tar",
        [
            ("EN_B00001_S00002_W000000.mp3", mp3),
            ("EN_B00001_S00002_W000000.json", _meta(id="EN_B00001_S00002_W000000")),
        ],
    )
    upload(client, tmp_path / "more", f"{prefix}/Emilia/EN")
    grown = ingest(remote, local_store.objects.config)
    assert not grown.reused and grown.utterances.fingerprint != from_s3.utterances.fingerprint
    assert local_store.get(grown.utterances).to_table(columns=["id"]).column("id").to_pylist() == [
        "EN_B00000_S00001_W000000",
        "yodas_id_1",
        "EN_B00001_S00002_W000000",
    ]


def test_s3_glob_matching_nothing_is_a_clear_error(s3, local_store):
    options, client, prefix = s3
    client.put_object(Bucket=BUCKET, Key=f"{prefix}/Emilia/EN/EN-B000000.tar.partial", Body=b"not matched")
    pattern = f"s3://{BUCKET}/{prefix}/Emilia/EN/*.tar"
    with pytest.raises(FileNotFoundError, match=re.escape(f"no such file: {pattern}")):
        ingest(SpeechSourceConfig(kind="emilia", paths=[pattern], storage_options=options), local_store.objects.config)
    missing = f"s3://{BUCKET}/{prefix}/manifests/libriheavy_cuts_small.jsonl.gz"  # no glob: the file itself
    with pytest.raises(FileNotFoundError, match=re.escape(f"no such file: {missing}")):
        ingest(SpeechSourceConfig(kind="libriheavy", paths=[missing], storage_options=options), local_store.objects.config)
    assert local_store.names() == []  # nothing half-written
