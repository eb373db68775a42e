#!/usr/bin/env bash
# Set everything up, then run vmqos's main job on its built-in defaults: the seed note's lab
# (examples/seed.yaml) on this host — enforce, measure, report, clean up. Needs root.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/vmqos lab "$@"
