#!/usr/bin/env bash
# Runs the test suite (what `make test` calls): inside a loopback-only network namespace when
# possible, so servers the tests start (S3, Prefect, Ray) are reachable on 127.0.0.1 only and any
# test that needed the network would fail. Extra arguments go to pytest:
#   bash tests/run_tests.sh -k store -x
set -uo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 RAY_AUTH_MODE=disabled PYTHONUNBUFFERED=1
PYTEST=(.venv/bin/python -m pytest --timeout=900 -p no:cacheprovider "$@")
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null && [ "${SALAD_NO_NETNS:-0}" != 1 ]; then
  exec unshare -n bash -c 'ip link set lo up && exec "$@"' _ "${PYTEST[@]}"
fi
echo "note: running without a private network namespace (needs root, unshare and ip; or SALAD_NO_NETNS=1 was set)" >&2
exec "${PYTEST[@]}"
