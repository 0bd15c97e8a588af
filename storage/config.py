"""Where the artifact store lives.

A store is a URI: a local folder (the default, ``./salad-store`` or ``$SALAD_STORE``) or
``s3://bucket/prefix`` on any S3-compatible server. S3 endpoint and credentials come from the
usual AWS environment variables (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``) unless set here; they are never written into
manifests.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, Field, SecretStr

DEFAULT_STORE = "./salad-store"


def default_store_uri() -> str:
    return os.environ.get("SALAD_STORE", DEFAULT_STORE)


class StoreConfig(BaseModel):
    """The store's location and, for S3, how to reach it."""

    uri: str = Field(
        default_factory=default_store_uri,
        description="Local folder or s3://bucket/prefix. Default: $SALAD_STORE or ./salad-store.",
    )
    endpoint_url: str | None = Field(
        default=None, description="S3 endpoint (e.g. http://127.0.0.1:7480). Default: $AWS_ENDPOINT_URL."
    )
    region: str | None = Field(default=None, description="S3 region. Default: $AWS_DEFAULT_REGION.")
    access_key_id: SecretStr | None = Field(default=None, description="Default: $AWS_ACCESS_KEY_ID.")
    secret_access_key: SecretStr | None = Field(default=None, description="Default: $AWS_SECRET_ACCESS_KEY.")

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")
