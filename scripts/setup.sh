#!/usr/bin/env bash
# Set up vmqos on a brand-new Debian 12 machine (run as root): Debian packages, uv, and a
# virtual environment in .venv with the exact pinned dependencies of requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v tc >/dev/null || need_apt+=(iproute2)
command -v python3 >/dev/null || need_apt+=(python3 python3-venv python3-pip)
if [ "${#need_apt[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

command -v uv >/dev/null || python3 -m pip install -q --disable-pip-version-check "uv==0.13.9"

[ -x .venv/bin/python ] || uv venv -q --python python3 .venv
uv pip sync -q --python .venv/bin/python requirements.lock
uv pip install -q --python .venv/bin/python --no-deps -e .
