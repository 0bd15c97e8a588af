"""The speech flow end to end under Prefect: real clips -> utterances -> codes."""

from __future__ import annotations

import torch

from flows.speech_flow import speech_flow
from salad_core.mimi import MimiConfig
from salad_core.speech_sources import SpeechSourceConfig
from storage import ArtifactStore, StoreConfig
from tasks.tokenize_config import TokenizeConfig

torch.set_num_threads(1)


def test_speech_flow_ingests_and_tokenizes(prefect_harness, shared_data, tmp_path):
    store = StoreConfig(uri=str(tmp_path / "store"))
    source = SpeechSourceConfig(folder=str(shared_data / "real_speech"), max_seconds=1.5, limit=6, shard_rows=3)
    out = speech_flow(source, TokenizeConfig(mimi=MimiConfig(weights="random"), calibration_seconds=3.0), store)
    codes = ArtifactStore.open(store).get(out.tokenize.codes)
    assert codes.num_rows == ArtifactStore.open(store).get(out.ingest.utterances).num_rows == 4  # two of the first 6 have no transcript
    assert [p.name for p in codes.manifest.parents if p.name == "utterances"] == ["utterances"]
    assert codes.manifest.run_context.get("flow_name") == "salad-natural-speech"
