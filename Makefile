# SALAD pipeline. The two commands a new user needs:
#   make demo   # set up (if needed) and run the whole pipeline on the embedded default
#   make test   # set up (if needed) and run the test suite
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test lint venv sysdeps clean-store

# System packages: Ceph's S3 gateway for the store's production S3 tests, espeak-ng for speech,
# iproute2/util-linux for the loopback-only network namespace the tests run in, chromium for the UI test.
SYS_PKGS := ceph-mon ceph-osd radosgw espeak-ng iproute2 util-linux chromium
sysdeps:
	@missing=""; for p in $(SYS_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml constraints.txt Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	# torch first (CPU wheel), so nothing later pulls a CUDA build
	$(PIP) install -q -c constraints.txt torch==2.13.0
	# deepspeed's build imports torch: no build isolation, no prebuilt ops
	DS_BUILD_OPS=0 $(PIP) install -q -c constraints.txt --no-build-isolation deepspeed==0.19.8
	# moshi pins torch<2.10: install without its deps (Mimi's needs are in pyproject)
	$(PIP) install -q --no-deps moshi==0.2.13
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Ray binds the machine's address; as root the demo runs in a loopback-only network namespace
# (nothing here needs the network), elsewhere as is.
demo: venv
	@if [ "$$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then \
	  RAY_AUTH_MODE=disabled unshare -n bash -c 'ip link set lo up && exec $(BIN)/salad demo --preset tiny'; \
	else $(BIN)/salad demo --preset tiny; fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: venv sysdeps lint
	bash tests/run_tests.sh
