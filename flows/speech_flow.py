"""Flow: a speech corpus (folder + TSV, LibriHeavy or Emilia) -> `utterances` -> Mimi `codes`.

Run it (offline, CPU; random Mimi weights are fitted on the first seconds of the input unless the
real checkpoint is in the Hugging Face cache):
    .venv/bin/python -m flows.speech_flow /work/shared/data/real_speech       # folder + transcripts.tsv
    .venv/bin/python -c "from flows.speech_flow import *; speech_flow(SpeechSourceConfig(kind='emilia', paths=['s3://b/EN/*.tar']))"
then look at the result:
    salad artifacts show utterances
    salad artifacts show natural_codes
"""

from __future__ import annotations

import sys

from prefect import flow
from pydantic import BaseModel

from salad_core.speech_sources import SpeechSourceConfig
from storage import ArtifactStore, StoreConfig
from tasks.publish import publish_lineage_overview
from tasks.speech_ingest import SpeechIngestOutputs, ingest_speech
from tasks.tokenize import TokenizeOutputs, tokenize_speech
from tasks.tokenize_config import TokenizeConfig


class SpeechFlowOutputs(BaseModel):
    ingest: SpeechIngestOutputs
    tokenize: TokenizeOutputs


@flow(name="salad-natural-speech", log_prints=True)
def speech_flow(
    natural_speech: SpeechSourceConfig,
    tokenize: TokenizeConfig = TokenizeConfig(),
    store: StoreConfig = StoreConfig(),
) -> SpeechFlowOutputs:
    """Ingest a speech corpus into `utterances` and tokenize it into Mimi `codes`."""
    ingested = ingest_speech(natural_speech, store)
    codes = tokenize_speech(ingested.utterances, tokenize.model_copy(update={"output_name": "natural_codes"}), store)
    refs = [ingested.utterances, ingested.quarantine, codes.codes, codes.quarantine, *([codes.weights] if codes.weights else [])]
    publish_lineage_overview(ArtifactStore.open(store), refs, "salad-natural-speech")
    return SpeechFlowOutputs(ingest=ingested, tokenize=codes)


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/real_speech"
    outputs = speech_flow(SpeechSourceConfig(kind="folder", folder=folder, max_seconds=10))
    print(outputs.model_dump_json(indent=2))
