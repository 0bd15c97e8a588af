"""Where the artifact store lives, and how long it may take to answer.

A store is a URI: a local folder (the default, ``./salad-store`` or ``$SALAD_STORE``) or
``s3://bucket/prefix`` on any S3-compatible server. S3 endpoint and credentials come from the
usual AWS environment variables (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``) unless set here; they are never written into
manifests.

Time bounds exist because object gateways fail by going quiet, not only by refusing: a gateway
that accepts connections and never answers must end in a clear error, and a gateway that
restarts (tens of seconds) must not fail a stage that was hours into its work.
"""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

DEFAULT_STORE = "./salad-store"
_USERINFO = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://[^/@\s]+@", re.I)


def default_store_uri() -> str:
    """The store used when none is given: ``$SALAD_STORE`` if set, else ``./salad-store``."""
    return os.environ.get("SALAD_STORE", DEFAULT_STORE)


class StoreConfig(BaseModel):
    """The store's location, for S3 how to reach it, and how patiently."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)  # errors never echo the input (credentials)

    uri: str = Field(
        default_factory=default_store_uri,
        description="Local folder or s3://bucket/prefix. Default: $SALAD_STORE or ./salad-store.",
    )
    endpoint_url: str | None = Field(default=None, description="S3 endpoint (e.g. http://127.0.0.1:7480). Default: $AWS_ENDPOINT_URL.")
    region: str | None = Field(default=None, description="S3 region. Default: $AWS_DEFAULT_REGION.")
    access_key_id: SecretStr | None = Field(default=None, description="Default: $AWS_ACCESS_KEY_ID.")
    secret_access_key: SecretStr | None = Field(default=None, description="Default: $AWS_SECRET_ACCESS_KEY.")
    timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest one S3 request may take (connect, answer, the whole call) before it counts "
        "as failed; uploads and hashes of large files get an extra second per MiB.",
    )
    retry_for_s: float = Field(
        default=180.0,
        ge=0,
        description="How long transient S3 errors (connection reset or refused, 5xx, timeouts) are retried, "
        "with exponential backoff, before the call fails; the default rides out a 90 s gateway restart.",
    )
    verify_on_reuse: Literal["size", "hash"] = Field(
        default="size",
        description="How a committed version is checked before a stage reuses it: 'size' (every file present "
        "with its recorded size, manifest hash; one listing) or 'hash' (also every file's sha256: reads it all).",
    )

    @property
    def is_s3(self) -> bool:
        """True for an ``s3://`` URI (an S3-compatible object store), False for a local folder."""
        return self.uri.startswith("s3://")

    @model_validator(mode="after")
    def _no_credentials_in_urls(self) -> "StoreConfig":
        for field in ("uri", "endpoint_url"):
            match = _USERINFO.match(getattr(self, field) or "")
            if match:
                raise ValueError(
                    f"store.{field}: a URL with credentials in it ({match['scheme']}://***@…) is refused: it would be stored "
                    "in Prefect's database and logs; give credentials through AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
                )
        return self
