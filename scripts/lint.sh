#!/usr/bin/env bash
# The project's static checks, run by `make lint` and first thing by `make test`:
# ruff (lint and format), mypy (the whole tree; strict flags on the pure cores and the
# API, see [tool.mypy]) and import-linter (the walls between packages, [tool.importlinter]).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
