# The two commands of the README: `make serve` runs tsdev on the embedded store, `make test` runs the
# whole suite. Both bootstrap uv (from PyPI, into .tools/) when it is not installed, then sync the
# workspace from uv.lock.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
ARGS ?=

.PHONY: help bootstrap sync serve demo test lint typecheck pytest clean

help:
	@echo "make serve   run tsdev (OTLP/HTTP on 127.0.0.1:4318, API on 127.0.0.1:8080, embedded store)"
	@echo "make test    lint, type-check and run the whole test suite"
	@echo "make demo    run the whole loop on the demo shop (ARGS=--fast for a short run)"

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

bootstrap: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)

sync: bootstrap
	$(UV) sync --frozen

serve: sync
	$(UV) run tsdev serve $(ARGS)

demo: sync
	$(UV) run tsdev demo $(ARGS)

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck: sync
	$(UV) run mypy

pytest: sync
	bash scripts/test-services.sh
	$(UV) run pytest $(ARGS)

test: lint typecheck pytest

clean:
	rm -rf .tools .venv .mypy_cache .ruff_cache .pytest_cache
