#!/usr/bin/env bash
# The one lint command: ruff, mypy on the pure packages, import-linter layer contracts.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
"$BIN/ruff" check src tests benchmarks
"$BIN/mypy"
"$BIN/lint-imports"
