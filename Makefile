# Shopmesh developer entry points. `make help` lists every target.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

export UV_PYTHON_DOWNLOADS := never
export UV_NO_CACHE_WRITE_WARNINGS := 1
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/.bin
GO ?= go
SERVICES := kit auth

.PHONY: help
help: ## List every target with one line
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- environment
$(UV): tools/python/bootstrap.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r tools/python/bootstrap.lock
	touch $@

$(VENV)/.synced: $(UV) requirements.lock pyproject.toml gen/python/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml)
	$(UV) pip install --quiet --python $(PY) --require-hashes -r requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps --no-build-isolation -e gen/python $(foreach s,$(SERVICES),-e services/$(s))
	touch $@

.PHONY: venv
venv: $(VENV)/.synced ## Create .venv from the hashed lock (idempotent)

.PHONY: lock
lock: $(UV) ## Re-resolve Python dependencies into requirements.lock (hashed, no index URLs)
	$(UV) lock --python $(PYTHON)
	$(UV) export --frozen --no-emit-workspace --all-packages --format requirements-txt -q -o requirements.lock
	rm -f uv.lock
