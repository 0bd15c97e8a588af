"""The speech ingest task in its own process, for kill-and-resume tests.

    python tests/speech_ingest_child.py STORE_URI SPEECH_SOURCE_CONFIG_JSON

Runs ``ingest_speech`` (without Prefect) and prints the outputs as JSON on the last line.

Test hook, here only (production code has none): with ``SPEECH_INGEST_CHILD_HANG_AT_SHARD=N`` the
child writes the data file of `utterances` shard N and then hangs before creating that shard's
commit record (touching the file named by ``SPEECH_INGEST_CHILD_HANG_MARKER`` once it hangs), so a
test can SIGKILL it at a known point — shards 0..N-1 committed, shard N's
data written but not committed — by polling the store instead of sleeping a guessed time.
"""

import os
import sys
import time
from pathlib import Path

from salad_core.speech_sources import SpeechSourceConfig
from storage import StoreConfig
from storage.filesystem import ObjectStore
from storage.writer import shard_record_key
from tasks.speech_ingest import UTTERANCES, ingest_speech

HANG_SECONDS = 600.0


def hang_before_committing(shard: int) -> None:
    create = ObjectStore.create_json_if_absent

    def create_json_if_absent(self, key, obj):
        if key.startswith(f"{UTTERANCES}/") and key.endswith(shard_record_key("", shard)):
            print(f"hanging before the commit record of {UTTERANCES} shard {shard}", flush=True)
            Path(os.environ["SPEECH_INGEST_CHILD_HANG_MARKER"]).touch()  # tells the parent: kill me now
            time.sleep(HANG_SECONDS)
        return create(self, key, obj)

    ObjectStore.create_json_if_absent = create_json_if_absent


def main() -> None:
    uri, config_json = sys.argv[1], sys.argv[2]
    if os.environ.get("SPEECH_INGEST_CHILD_HANG_AT_SHARD"):
        hang_before_committing(int(os.environ["SPEECH_INGEST_CHILD_HANG_AT_SHARD"]))
    outputs = ingest_speech.fn(SpeechSourceConfig.model_validate_json(config_json), StoreConfig(uri=uri))
    print(outputs.model_dump_json(), flush=True)


if __name__ == "__main__":
    main()
