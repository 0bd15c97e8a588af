"""Small FineWeb-Edu Parquet files made from the real documents in ../shared/data/real_text."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from salad_core.corpus.fineweb_schema import FINEWEB_SCHEMA


def real_rows(shared_data: Path) -> list[dict]:
    """The 150 real sample-10BT texts with plausible metadata, plus the one complete real record."""
    rows = []
    with open(shared_data / "real_text" / "fineweb_edu_sample10BT_texts.jsonl") as f:
        for line in f:
            doc = json.loads(line)
            i = doc["row"]
            score = 2.5 + (i % 6) * 0.5
            rows.append(
                {
                    "text": doc["text"],
                    "id": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'real-{i}')}>",
                    "dump": "CC-MAIN-2024-10",
                    "url": f"https://example.org/doc/{i}",
                    "file_path": "s3://commoncrawl/crawl-data/CC-MAIN-2024-10/segments/x/warc/y.warc.gz",
                    "language": "en" if i % 10 else "fr",
                    "language_score": 0.95,
                    "token_count": len(doc["text"].split()),
                    "score": score,
                    "int_score": int(round(score)),
                }
            )
    with open(shared_data / "real_text" / "fineweb_edu_row_hf_columns.jsonl") as f:
        rows.append(json.loads(f.readline()))
    return rows


def write_fineweb(path: Path, rows: list[dict], row_group_size: int = 1000, schema: pa.Schema = FINEWEB_SCHEMA) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, row_group_size=row_group_size)
    return path
