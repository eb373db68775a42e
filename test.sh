#!/usr/bin/env bash
# Set everything up, then run the whole test suite: lint, types, layering contracts, tests.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh --with-libvirt
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff";          ruff check src tests benchmarks
echo "== mypy --strict"; mypy
echo "== import-linter"; lint-imports
echo "== pytest";        pytest "$@"
