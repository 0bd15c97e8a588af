"""State dict <-> Arrow table: exact, for every dtype and with tied embeddings."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from salad_core.model import llm_from_config, tiny_qwen2_config
from salad_core.teacher.weights_table import WEIGHTS_SCHEMA, state_dict_to_table, table_to_model


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_round_trip_through_parquet_is_exact(tmp_path, dtype, tied):
    torch.manual_seed(3)
    model = llm_from_config(tiny_qwen2_config(vocab_size=300, hidden=32, n_layer=1, mlp=64, tie_word_embeddings=tied), dtype=dtype).eval()
    table = state_dict_to_table(model.state_dict(), model.config)
    assert table.schema == WEIGHTS_SCHEMA and table.num_rows == len(model.state_dict())
    pq.write_table(table, tmp_path / "teacher.parquet")
    back = table_to_model(pq.read_table(tmp_path / "teacher.parquet"))
    assert back.dtype == dtype and not back.training and back.config.tie_word_embeddings == tied
    original, restored = model.state_dict(), back.state_dict()
    assert list(original) == list(restored)
    assert all(torch.equal(original[k], restored[k]) and original[k].dtype == restored[k].dtype for k in original)
    ids = torch.randint(0, 300, (2, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, back(input_ids=ids).logits)


def test_rows_describe_each_tensor():
    torch.manual_seed(0)
    model = llm_from_config(tiny_qwen2_config(vocab_size=300, hidden=32, n_layer=1, mlp=64))
    rows = {r["name"]: r for r in state_dict_to_table(model.state_dict(), model.config).to_pylist()}
    embed = rows["model.embed_tokens.weight"]
    assert embed["dtype"] == "float32" and embed["shape"] == [300, 32] and len(embed["data"]) == 300 * 32 * 4


def test_mismatched_table_is_refused():
    torch.manual_seed(0)
    model = llm_from_config(tiny_qwen2_config(vocab_size=300, hidden=32, n_layer=1, mlp=64))
    table = state_dict_to_table(model.state_dict(), model.config)
    without_norm = table.filter(pa.compute.not_equal(table.column("name"), "model.norm.weight"))
    with pytest.raises(ValueError, match="missing"):
        table_to_model(without_norm)
