"""The tokenization task in its own process, for kill-and-resume tests.

    python tests/tokenize_child.py STORE_URI AUDIO_REF TOKENIZE_CONFIG_JSON

Runs ``tokenize_speech`` (without Prefect, one torch thread) on ``AUDIO_REF`` (name@fingerprint)
and prints the outputs as JSON on the last line.
"""

import sys

import torch

from storage import ArtifactStore, StoreConfig
from tasks.tokenize import tokenize_speech
from tasks.tokenize_config import TokenizeConfig


def main() -> None:
    torch.set_num_threads(1)
    uri, audio_ref, config_json = sys.argv[1], sys.argv[2], sys.argv[3]
    ref = ArtifactStore.open(uri).get(audio_ref).ref
    outputs = tokenize_speech.fn(ref, TokenizeConfig.model_validate_json(config_json), StoreConfig(uri=uri))
    print(outputs.model_dump_json(), flush=True)


if __name__ == "__main__":
    main()
