"""Speech ingest with a forced aligner: real clips (read in place), a tiny random wav2vec2 CTC model."""

from __future__ import annotations

import shutil

import pytest

from salad_core.audio import MIMI_SAMPLE_RATE, load_audio
from salad_core.speech_sources import SpeechItem, SpeechSourceConfig, UtteranceBuilder
from tasks.speech_ingest import ingest_speech, speech_ingest_spec
from tests.ctc_models import REAL_FRAME_RATE, save_tiny_ctc_model

ingest = ingest_speech.fn
TOO_LONG = "printing in the only sense with which we are at present concerned differs from most if not from all the arts " * 3


@pytest.fixture(scope="module")
def aligner_model(tmp_path_factory):
    return save_tiny_ctc_model(tmp_path_factory.mktemp("aligner"), upper=True, conv=REAL_FRAME_RATE)


@pytest.fixture
def clips(tmp_path, shared_data):
    """A transcript TSV naming real clips by absolute path; LJ001-0002 (1.9 s) gets far too long a text."""
    real = shared_data / "real_speech"
    (tmp_path / "transcripts.tsv").write_text(
        "file\ttext\n"
        f"{real / 'LJ002-0020.wav'}\tIn eighteen thirteen\n"
        f"{real / 'LJ002-0035.wav'}\tEIGHT THE PRESS YARD\n"
        f"{real / 'LJ001-0008.wav'}\thas never been surpassed.\n"
        f"{real / 'LJ001-0002.wav'}\t{TOO_LONG}\n"
    )
    return tmp_path


def test_rows_without_source_timings_are_aligned_and_misfits_quarantined(clips, aligner_model, local_store):
    config = SpeechSourceConfig(folder=str(clips), aligner_model_path=str(aligner_model), shard_rows=2, clip_checks=None)
    out = ingest(config, local_store.objects.config)
    kept = local_store.get(out.utterances)
    rows = kept.to_table().to_pylist()
    assert [r["id"] for r in rows] == ["LJ002-0020", "LJ002-0035", "LJ001-0008"]
    for row in rows:
        assert row["timings_source"] == "aligner" and [w["word"] for w in row["word_timings"]] == row["text"].split()
        ends = [0.0] + [w["end"] for w in row["word_timings"]]
        assert all(a <= w["start"] < w["end"] <= row["duration_s"] for a, w in zip(ends, row["word_timings"]))
    (bad,) = local_store.get(out.quarantine).to_table().to_pylist()
    assert bad["id"] == "LJ001-0002" and bad["reason"].startswith("forced alignment failed: ")
    assert "transcripts.tsv" in bad["reason"] and "needs at least" in bad["reason"] and "but the audio has 94" in bad["reason"]
    stats = kept.manifest.stats
    assert stats["rows_with_aligner_timings_this_run"] == 3 and stats["rows_with_source_timings_this_run"] == 0
    assert stats["quarantine_reasons_this_run"] == {"forced alignment failed": 1}
    assert stats["word_timings"] == f"from the source when it has them, else forced aligner {aligner_model}"
    sha = kept.manifest.models["aligner_files_sha256"]
    assert len(sha) == 64 and kept.manifest.models["aligner"] == f"ctc:wav2vec2@{sha[:16]}"
    assert str(aligner_model) not in kept.manifest.model_dump_json().replace(stats["word_timings"], "")  # no machine path in the identity

    # cropping keeps the timings that end inside the crop, aligned on the whole clip
    cropped = ingest(config.model_copy(update={"max_seconds": 1.0}), local_store.objects.config)
    for row, full in zip(local_store.get(cropped.utterances).to_table().to_pylist(), rows):
        assert row["duration_s"] == 1.0 and row["word_timings"] == [w for w in full["word_timings"] if w["end"] <= 1.0]


def test_the_aligner_model_is_in_the_fingerprint_and_its_device_is_not(clips, aligner_model, tmp_path):
    def fingerprint(**kw) -> str:
        return speech_ingest_spec(SpeechSourceConfig(folder=str(clips), **kw)).fingerprint

    with_aligner = fingerprint(aligner_model_path=str(aligner_model))
    assert with_aligner != fingerprint()
    assert fingerprint(aligner_model_path=str(aligner_model), aligner_device="cuda:3") == with_aligner
    other = save_tiny_ctc_model(tmp_path / "other", upper=True, seed=1, conv=REAL_FRAME_RATE)
    assert fingerprint(aligner_model_path=str(other)) != with_aligner
    # same folder, new weights: a new version too
    moved = shutil.copytree(aligner_model, tmp_path / "swapped")
    before = fingerprint(aligner_model_path=str(moved))
    assert before == with_aligner  # the same files in another folder: the same version
    shutil.copy(other / "model.safetensors", moved / "model.safetensors")
    assert fingerprint(aligner_model_path=str(moved)) != before


def item(shared_data, text: str | None, timings=None) -> SpeechItem:
    def load():
        return load_audio(shared_data / "real_speech" / "LJ002-0020.wav", target_sr=MIMI_SAMPLE_RATE)[0]

    return SpeechItem(id="x", text=text, speaker=None, origin="test", load=load, word_timings=timings, timings_source="source" if timings is not None else None)


def test_source_timings_win_and_empty_text_is_not_aligned(shared_data, aligner_model):
    builder = UtteranceBuilder(SpeechSourceConfig(folder="unused", aligner_model_path=str(aligner_model), allow_empty_text=True))
    source = [{"word": "In", "start": 0.1, "end": 0.3}]
    row, _ = builder.build(item(shared_data, "In eighteen thirteen", source))
    assert row["word_timings"] == source and row["timings_source"] == "source"
    row, _ = builder.build(item(shared_data, ""))
    assert row["word_timings"] is None and row["timings_source"] is None
    assert builder._aligner is None  # nothing needed it: the model was never loaded
    row, _ = builder.build(item(shared_data, "In eighteen thirteen"))
    aligner = builder.aligner
    assert row["timings_source"] == "aligner" and len(row["word_timings"]) == 3
    builder.build(item(shared_data, "eighteen"))
    assert builder.aligner is aligner  # loaded once per builder
