#!/usr/bin/env bash
# Set everything up, then run vmqos's main job on its built-in defaults: explain the seed
# note's scenario (examples/seed.yaml) and print its compute-node plan.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/vmqos demo "$@"
