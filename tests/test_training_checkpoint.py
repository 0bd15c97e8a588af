"""Checkpoint tensor tables: bit-exact round trips (local and S3/moto), tampered and pickled weights refused."""

from __future__ import annotations

import io
import pickle

import pyarrow as pa
import pytest
import torch

from salad_core.training.tensor_table import (
    TamperedCheckpoint,
    files_to_table,
    table_digest,
    table_to_files,
    table_to_tensors,
    tensors_to_table,
)
from storage import ArtifactStore, StageSpec
from storage.integrity import DamagedArtifact
from tasks.checkpoint_store import read_engine_files, read_student_state, write_checkpoint
from tests.conftest import s3_store_config

torch.set_num_threads(1)


def _state() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "llm.w": torch.randn(33, 17, generator=g),
        "adapter.b": torch.randn(7, generator=g).to(torch.bfloat16),
        "step": torch.tensor(12, dtype=torch.int64),
        "nan_inf": torch.tensor([float("nan"), float("inf"), -0.0]),
        "empty": torch.zeros(0, 4),
    }


def _bytes(t: torch.Tensor) -> bytes:
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def _spec(name: str = "checkpoint") -> StageSpec:
    return StageSpec(name=name, params={"step": 3, "kind": "periodic"}, code_version="test-1")


def test_tensor_table_round_trip_is_bit_exact_with_chunked_rows():
    state = _state()
    table = tensors_to_table(state, part="student", chunk_bytes=100)  # llm.w: 2244 bytes -> 23 rows
    assert max(len(b) for b in table.column("data").to_pylist()) <= 100
    assert table.column("name").to_pylist().count("llm.w") == 23
    back = table_to_tensors(table, "t", table_digest(table))
    assert back.keys() == state.keys()
    for name, tensor in state.items():
        assert back[name].dtype == tensor.dtype and back[name].shape == tensor.shape
        assert _bytes(back[name]) == _bytes(tensor)  # bit for bit, NaN and -0.0 included
    files = {"zero/optim.pt": bytes(range(256)) * 3, "model.pt": b""}
    ftable = files_to_table(files, part="engine", chunk_bytes=200)
    assert table_to_files(ftable, "f", table_digest(ftable)) == files


def _replace_data(table: pa.Table, index: int, data: bytes) -> pa.Table:
    column = table.column("data").to_pylist()
    column[index] = data
    return table.set_column(table.schema.get_field_index("data"), "data", pa.array(column, pa.large_binary()))


def test_tampered_bytes_are_refused():
    table = tensors_to_table(_state(), part="student")
    digest = table_digest(table)
    raw = bytearray(table.column("data")[0].as_py())
    raw[5] ^= 1
    with pytest.raises(TamperedCheckpoint, match=r"tensor 'llm.w' does not match its SHA-256 \(tampered or corrupt\)"):
        table_to_tensors(_replace_data(table, 0, bytes(raw)), "ckpt@x", digest)
    dropped = table.slice(1)
    with pytest.raises(TamperedCheckpoint, match="differ from the committed manifest"):
        table_to_tensors(dropped, "ckpt@x", digest)


def test_pickled_weights_are_refused_never_unpickled():
    table = tensors_to_table(_state(), part="student")
    buffer = io.BytesIO()
    torch.save({"llm.w": torch.zeros(2)}, buffer)
    for payload in (buffer.getvalue(), pickle.dumps({"x": 1}, protocol=4)):
        with pytest.raises(TamperedCheckpoint, match="holds a pickle / torch.save archive.*refused"):
            table_to_tensors(_replace_data(table, 0, payload), "ckpt@x")
    with pytest.raises(TamperedCheckpoint, match="not a checkpoint tensor table"):
        table_to_tensors(pa.table({"state_dict": [buffer.getvalue()]}), "ckpt@x")


def test_a_pickle_in_place_of_the_parquet_file_is_refused(tmp_path):
    store = ArtifactStore.open(str(tmp_path / "store"))
    ref = write_checkpoint(store, _spec(), _state(), {"a.pt": b"x"}, {"kind": "periodic"})
    shard_file = tmp_path / "store" / store.get(ref).manifest.shards[0].file.join([f"checkpoint/{ref.fingerprint}/", ""])
    torch.save(_state(), shard_file)
    fresh = ArtifactStore.open(str(tmp_path / "store"))
    # the store's own size/hash check or, past it, the Parquet reader refuses it: never torch.load
    with pytest.raises((TamperedCheckpoint, DamagedArtifact), match=r"(damaged|not a readable Parquet tensor table)"):
        read_student_state(fresh, ref)


def test_checkpoint_round_trips_bit_exactly_through_s3(moto_endpoint):
    store = ArtifactStore.open(s3_store_config(moto_endpoint))
    state, files = _state(), {"zero_pp_rank_0_mp_rank_00_optim_states.pt": bytes(range(256)) * 1000}
    ref = write_checkpoint(store, _spec(), state, files, {"kind": "periodic", "step": 3})
    fresh = ArtifactStore.open(s3_store_config(moto_endpoint, prefix=store.uri.rsplit("/", 1)[1]))
    back = read_student_state(fresh, ref)
    assert back.keys() == state.keys() and all(_bytes(back[k]) == _bytes(state[k]) for k in state)
    assert read_engine_files(fresh, ref) == files
    assert write_checkpoint(store, _spec(), state, files, {"kind": "periodic", "step": 3}) == ref  # same spec: reused
