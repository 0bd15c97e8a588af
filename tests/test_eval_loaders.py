"""Benchmark loaders: the real rows in ../shared/data/real_eval, a tiny made file per format, quarantine.

Run: .venv/bin/python -m pytest tests/test_eval_loaders.py -x -q
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from salad_core.audio import decode_audio
from salad_core.evaluation import BenchmarkConfig, load_benchmark
from salad_core.evaluation.prompts import query_text, spoken_text
from salad_core.evaluation.sources import BenchmarkFileError


@pytest.fixture(scope="module")
def real(shared_data):
    return shared_data / "real_eval"


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


# --------------------------------------------------------------------------- real rows


def test_arc_challenge_hf_rows_all_load_including_three_choice_rows(real):
    out = load_benchmark(BenchmarkConfig(name="arc_challenge", paths=[str(real / "arc_challenge_validation.jsonl")]))
    assert len(out.items) == 60 and not out.rejected
    first = out.items[0]
    assert first.id == "Mercury_SC_407695" and first.answer == 3
    assert first.options[3] == "Record the details of the investigation."
    assert query_text(first).startswith("Question: Juan and LaKeisha") and query_text(first).endswith("\nAnswer:")
    assert {len(i.options) for i in out.items} >= {4} and len({len(i.options) for i in out.items}) > 1  # 3/5-choice rows
    three = [i for i in out.items if len(i.options) == 3]
    assert len(three) == 2 and all(0 <= i.answer < 3 for i in three)


def test_arc_numeric_labels(tmp_path):
    """Some ARC rows are labelled 1..4 (none among the 60 real rows here): the answer is the label's position."""
    row = {"id": "NYSEDREGENTS_2015_4_8", "question": "Q?", "choices": {"text": ["a", "b", "c", "d"], "label": ["1", "2", "3", "4"]}, "answerKey": "3"}
    assert load_benchmark(BenchmarkConfig(name="arc_challenge", paths=[_jsonl(tmp_path / "a.jsonl", [row])])).items[0].answer == 2


def test_arc_original_format(real):
    out = load_benchmark(BenchmarkConfig(name="arc_challenge", paths=[str(real / "arc_challenge_test_original_format.jsonl")]))
    assert [i.id for i in out.items] == ["Mercury_7175875", "Mercury_SC_409171"] and not out.rejected
    assert out.items[0].answer == 2 and out.items[0].options[2] == "Planetary days will become shorter."


def test_openbookqa_hf_and_original_agree_on_the_shared_row(real):
    hf = load_benchmark(BenchmarkConfig(name="openbookqa", paths=[str(real / "openbookqa_validation.jsonl")]))
    orig = load_benchmark(BenchmarkConfig(name="openbookqa", paths=[str(real / "openbookqa_original_format.jsonl")]))
    assert len(hf.items) == 60 and len(orig.items) == 2 and not hf.rejected and not orig.rejected
    a = next(i for i in hf.items if i.id == "7-1024")
    b = next(i for i in orig.items if i.id == "7-1024")
    assert (a.question, a.options, a.answer) == (b.question, b.options, b.answer)
    assert query_text(a) == "When birds migrate south for the winter, they do it because"  # the harness: question_stem


def test_hellaswag_rows_preprocessed_like_the_harness(real):
    out = load_benchmark(BenchmarkConfig(name="hellaswag", paths=[str(real / "hellaswag_validation.jsonl")]))
    assert len(out.items) == 60 and not out.rejected
    first = out.items[0]
    assert first.context == "Roof shingle removal: A man is sitting on a roof. He"
    assert first.answer == 3 and first.topic == "Roof shingle removal"
    wikihow = out.items[-1]
    assert "[" not in wikihow.context and all("[" not in o for o in wikihow.options)


def test_piqa_hf_and_original_release_give_the_same_items(real):
    hf = load_benchmark(BenchmarkConfig(name="piqa", paths=[str(real / "piqa_validation.jsonl")]))
    orig = load_benchmark(
        BenchmarkConfig(
            name="piqa",
            paths=[str(real / "piqa_valid_original_format.jsonl")],
            labels_path=str(real / "piqa_valid-labels_original_format.lst"),
        )
    )
    assert len(hf.items) == 60 and not hf.rejected
    assert [(i.question, i.options, i.answer) for i in hf.items] == [(i.question, i.options, i.answer) for i in orig.items]
    assert hf.items[1].answer == 1 and hf.items[1].question == "dresser"


def test_piqa_labels_file_of_the_wrong_length_is_an_error_naming_it(real, tmp_path):
    short = tmp_path / "labels.lst"
    short.write_text("0\n1\n")
    with pytest.raises(BenchmarkFileError, match="labels.lst: 2 labels for 60 rows"):
        load_benchmark(BenchmarkConfig(name="piqa", paths=[str(real / "piqa_valid_original_format.jsonl")], labels_path=str(short)))


# --------------------------------------------------------------------------- tiny made files


def test_storycloze_hf_and_original_csv(tmp_path):
    story = {f"input_sentence_{i}": f"Sentence {i}." for i in range(1, 5)}
    hf = _jsonl(tmp_path / "sc.jsonl", [{"story_id": "s1", **story, "sentence_quiz1": "Good end.", "sentence_quiz2": "Bad end.", "answer_right_ending": 1}])
    path = tmp_path / "cloze_test_val__spring2016.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["InputStoryid", *[f"InputSentence{i}" for i in range(1, 5)], "RandomFifthSentenceQuiz1", "RandomFifthSentenceQuiz2", "AnswerRightEnding"])
        w.writerow(["s2", *[f"Sentence {i}." for i in range(1, 5)], "Bad end.", "Good end.", "2"])
    a = load_benchmark(BenchmarkConfig(name="storycloze", paths=[hf])).items[0]
    b = load_benchmark(BenchmarkConfig(name="storycloze", paths=[str(path)])).items[0]
    assert a.context == b.context == "Sentence 1. Sentence 2. Sentence 3. Sentence 4."
    assert a.options[a.answer] == b.options[b.answer] == "Good end."
    assert query_text(a) == a.context


def test_hellaswag_original_int_label_and_hf_parquet(tmp_path):
    row = {
        "ind": 7,
        "activity_label": "Cooking",
        "ctx_a": "A man cracks an egg.",
        "ctx_b": "then he",
        "ctx": "x",
        "endings": ["fries it.", "Step one [title] two [step] three.", "sleeps.", "runs."],
        "split": "val",
        "label": 0,
    }
    original = _jsonl(tmp_path / "hellaswag_val.jsonl", [row])
    parquet = tmp_path / "validation-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist([{**row, "label": "0"}]), parquet)
    a = load_benchmark(BenchmarkConfig(name="hellaswag", paths=[original])).items[0]
    b = load_benchmark(BenchmarkConfig(name="hellaswag", paths=[str(parquet)])).items[0]
    assert a == b and a.context == "Cooking: A man cracks an egg. Then he" and a.options[1] == "Step one. two three."


def test_arc_and_obqa_hf_parquet(tmp_path):
    path = tmp_path / "test-00000-of-00001.parquet"
    pq.write_table(
        pa.Table.from_pylist([{"id": "q1", "question_stem": "Sun is a", "choices": {"text": ["star", "moon"], "label": ["A", "B"]}, "answerKey": "A"}]), path
    )
    item = load_benchmark(BenchmarkConfig(name="openbookqa", paths=[str(path)])).items[0]
    assert (item.question, item.options, item.answer) == ("Sun is a", ("star", "moon"), 0)


def _flac_16k(seconds: float = 0.5) -> bytes:
    t = np.arange(int(16000 * seconds)) / 16000
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000, format="WAV")
    return buf.getvalue()


def test_voicebench_mmsu_parquet_with_audio_resampled_and_topic_from_the_file_name(tmp_path):
    prompt = "Which organelle makes ATP?\nA. Nucleus\nB. Mitochondrion\nC. Ribosome\nD. Golgi body\nAnswer with the option's letter."
    rows = [
        {"audio": {"bytes": _flac_16k(), "path": "q0.wav"}, "prompt": prompt, "reference": "B"},
        {"audio": {"bytes": b"not audio", "path": "q1.wav"}, "prompt": prompt, "reference": "A"},
        {"audio": None, "prompt": "What is 2+2?\nA. 3\nB. 4", "reference": "E"},
    ]
    path = tmp_path / "biology-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    out = load_benchmark(BenchmarkConfig(name="mmsu", paths=[str(path)]))
    assert len(out.items) == 1
    item = out.items[0]
    assert item.question == "Which organelle makes ATP?" and item.options == ("Nucleus", "Mitochondrion", "Ribosome", "Golgi body")
    assert item.answer == 1 and item.topic == "biology" and spoken_text(item) == "Which organelle makes ATP?"
    audio, sr = decode_audio(item.audio, target_sr=None)
    assert sr == 24000 and abs(len(audio) - 12000) <= 2
    reasons = sorted(r.reason for r in out.rejected)
    assert reasons[0].startswith("answer out of range: reference 'E'") and reasons[1].startswith("undecodable audio")


# --------------------------------------------------------------------------- quarantine


def test_malformed_rows_are_quarantined_with_their_reason_and_line(tmp_path):
    good = {"id": "ok", "question": "Q?", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "A"}
    rows = [
        good,
        {**good, "id": "no-options", "choices": {"text": [], "label": []}},
        {**good, "id": "bad-answer", "answerKey": "C"},
        {**good, "id": "empty-question", "question": "  "},
        {**good, "id": "empty-option", "choices": {"text": ["a", ""], "label": ["A", "B"]}},
        {**good},  # duplicate id
    ]
    path = _jsonl(tmp_path / "arc.jsonl", rows)
    with open(path, "a") as f:
        f.write("{not json\n")
    out = load_benchmark(BenchmarkConfig(name="arc_challenge", paths=[path]))
    assert [i.id for i in out.items] == ["ok"]
    got = {(r.id, r.source.rsplit(":", 1)[1]): r.reason for r in out.rejected}
    assert got == {
        ("no-options", "2"): "missing options (choices.text)",
        ("bad-answer", "3"): "answer out of range: answerKey 'C' is not among the labels ['A', 'B']",
        ("empty-question", "4"): "empty text: no context and no question",
        ("empty-option", "5"): "empty text: an option is empty",
        ("ok", "6"): "duplicate id",
        (None, "7"): "not JSON: Expecting property name enclosed in double quotes",
    }


def test_unknown_layout_and_missing_file_are_clear_errors(tmp_path):
    path = _jsonl(tmp_path / "x.jsonl", [{"foo": 1}])
    with pytest.raises(BenchmarkFileError, match="cannot tell the benchmark layout"):
        load_benchmark(BenchmarkConfig(name="arc_challenge", paths=[path]))
    with pytest.raises(BenchmarkFileError, match="nope.jsonl: no such file"):
        load_benchmark(BenchmarkConfig(name="arc_challenge", paths=[str(tmp_path / "nope.jsonl")]))


def test_reads_from_s3(real, moto_endpoint, monkeypatch):
    import s3fs

    from tests.conftest import BUCKET

    for k, v in moto_endpoint.env().items():
        monkeypatch.setenv(k, v)
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": moto_endpoint.endpoint_url})
    fs.put_file(str(real / "piqa_validation.jsonl"), f"{BUCKET}/eval/piqa/validation.jsonl")
    out = load_benchmark(BenchmarkConfig(name="piqa", paths=[f"s3://{BUCKET}/eval/piqa/*.jsonl"]))
    assert len(out.items) == 60 and out.files[0]["url"] == f"s3://{BUCKET}/eval/piqa/validation.jsonl"
