"""The FineWeb-Edu Parquet schema, as the real files carry it.

Everything that reads or produces web text (real FineWeb-Edu shards, the bundled corpus) speaks
this one schema, so later stages never care where the text came from.
"""

import pyarrow as pa

FINEWEB_SCHEMA = pa.schema(
    [
        ("text", pa.string()),
        ("id", pa.string()),
        ("dump", pa.string()),
        ("url", pa.string()),
        ("file_path", pa.string()),
        ("language", pa.string()),
        ("language_score", pa.float64()),
        ("token_count", pa.int64()),
        ("score", pa.float64()),
        ("int_score", pa.int64()),
    ]
)
