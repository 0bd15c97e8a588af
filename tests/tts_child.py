"""The synthesis task in its own process, for kill-and-resume tests.

    python tests/tts_child.py STORE_URI TEXT_REF SYNTHESIS_CONFIG_JSON

Runs ``synthesize_speech`` (without Prefect) on the text artifact ``TEXT_REF`` (name@fingerprint)
and prints the outputs as JSON on the last line. Ray: as the config says (an ``address`` joins
the test's cluster).
"""

import sys

from storage import ArtifactStore, StoreConfig
from tasks.tts import synthesize_speech
from tasks.tts_config import SynthesisConfig


def main() -> None:
    uri, text_ref, config_json = sys.argv[1], sys.argv[2], sys.argv[3]
    ref = ArtifactStore.open(uri).get(text_ref).ref
    outputs = synthesize_speech.fn(ref, SynthesisConfig.model_validate_json(config_json), StoreConfig(uri=uri))
    print(outputs.model_dump_json(), flush=True)


if __name__ == "__main__":
    main()
