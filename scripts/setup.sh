#!/usr/bin/env bash
# Create .venv and install asrloop with its pinned stack. Uses uv when it can (about a minute),
# plain pip otherwise (about five). Everything comes from PyPI: no system package is needed.
# EXTRAS=dev,team adds the team stack's packages (make setup-team).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
EXTRAS=${EXTRAS:-dev}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if ! command -v uv >/dev/null 2>&1; then
  "$PY" -m pip install --quiet --user uv 2>/dev/null || "$PY" -m pip install --quiet uv || true
fi
export PATH="$HOME/.local/bin:$PATH"
if command -v uv >/dev/null 2>&1; then
  [ -x .venv/bin/python ] || uv venv --quiet --python "$PY" .venv
  uv pip install --quiet --python .venv/bin/python -e ".[$EXTRAS]"
else
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[$EXTRAS]"
fi
# Byte-compile now: with PYTHONDONTWRITEBYTECODE set (common in containers, and here) nothing
# is ever cached, and every step's process recompiled ~4,500 modules: 6 s of each start.
.venv/bin/python -m compileall -q -j 0 .venv/lib/python*/site-packages src >/dev/null 2>&1 || true
.venv/bin/python -c "import asrloop, torch, torchaudio, mlflow, dvc; print('asrloop setup ok: torch', torch.__version__)"
