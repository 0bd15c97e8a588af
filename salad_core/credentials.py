"""Credentials never ride in a config: they would be stored in plain text in Prefect's database
(`flow_run.parameters`), echoed in logs and state messages, and shown in the run's Parameters tab
and its "Copy to new run" link. Configs refuse them, without repeating them in the error, and say
where they belong instead: the environment of the worker (AWS_ACCESS_KEY_ID, ...) or a Prefect
Secret block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_KEY = re.compile(r"(secret|password|passwd|token|access_key|api_key|credential|auth|session)", re.I)
URL_WITH_USERINFO = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://[^/@\s]+@(?P<host>[^/\s]*)", re.I)
WHERE_INSTEAD = (
    "give credentials through the worker's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) "
    "or a Prefect Secret block, never in a run parameter"
)


class CredentialsInConfig(ValueError):
    """A credential was given where it would be stored and shown in plain text."""


def refuse_url_credentials(urls: Iterable[str | None], field: str) -> None:
    """CredentialsInConfig when any url carries user:password@ info (the message masks it); None urls are ignored. Secrets must
    not land in run parameters or manifests."""
    for url in urls:
        match = URL_WITH_USERINFO.match(url or "")
        if match:
            where = f"{match['scheme']}://***@{match['host']}"
            raise CredentialsInConfig(f"{field}: a URL with credentials in it ({where}) is refused; {WHERE_INSTEAD}")


def refuse_secret_options(options: Mapping[str, Any], field: str) -> None:
    """CredentialsInConfig when any option key looks like a secret (token, password, api_key, ...), so credentials come from the environment instead."""
    secret = sorted(k for k in options if SECRET_KEY.search(str(k)))
    if secret:
        raise CredentialsInConfig(f"{field}: the option(s) {secret} look like credentials and are refused; {WHERE_INSTEAD}")
