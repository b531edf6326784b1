#!/usr/bin/env bash
# Creates .venv/ with a Python >= 3.12, installs the locked Python packages (uv.lock) and the
# locked front-end packages (package-lock.json). Idempotent: a second run only checks.
# Sourced by scripts/demo and scripts/test; never writes outside the repository except uv's cache.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export UV_PYTHON_DOWNLOADS=never   # interpreters come from this machine, never downloaded

say() { printf '\033[1m[leadbase]\033[0m %s\n' "$*" >&2; }

python_ok() {
  # True when "$1" runs and is CPython >= 3.12.
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  local cand
  if [ -n "${LEADBASE_PYTHON:-}" ]; then
    python_ok "$LEADBASE_PYTHON" && { echo "$LEADBASE_PYTHON"; return 0; }
    say "LEADBASE_PYTHON=$LEADBASE_PYTHON is not a Python >= 3.12"; return 1
  fi
  # 1. Names on PATH, newest first.
  for cand in python3.14 python3.13 python3.12 python3 python; do
    if command -v "$cand" >/dev/null 2>&1 && python_ok "$cand"; then
      command -v "$cand"; return 0
    fi
  done
  # 2. pyenv-installed interpreters (pyenv's root as pyenv reports it, or its usual places).
  local roots=("${PYENV_ROOT:-$HOME/.pyenv}")
  command -v pyenv >/dev/null 2>&1 && roots=("$(pyenv root 2>/dev/null || true)" "${roots[@]}")
  # 3. uv-managed interpreters (uv's own answer, or its usual data directory).
  if command -v uv >/dev/null 2>&1; then
    cand="$(uv python find '>=3.12' 2>/dev/null || true)"
    [ -n "$cand" ] && python_ok "$cand" && { echo "$cand"; return 0; }
  fi
  local root candidates=()
  for root in "${roots[@]}" "${XDG_DATA_HOME:-$HOME/.local/share}/uv/python"; do
    [ -n "$root" ] || continue
    candidates+=("$root"/versions/*/bin/python3 "$root"/*/bin/python3)
  done
  for cand in $(printf '%s\n' "${candidates[@]}" | sort -rV); do
    [ -x "$cand" ] && python_ok "$cand" && { echo "$cand"; return 0; }
  done
  return 1
}

ensure_uv() {
  # uv installs from uv.lock. Use the one on PATH, else install it into .tools/ with pip.
  if command -v uv >/dev/null 2>&1; then command -v uv; return 0; fi
  if [ ! -x "$ROOT/.tools/bin/uv" ]; then
    say "installing uv into .tools/ (one time)"
    "$PY" -m venv "$ROOT/.tools" >&2
    "$ROOT/.tools/bin/pip" install --quiet 'uv>=0.9,<1' >&2
  fi
  echo "$ROOT/.tools/bin/uv"
}

# An environment made by an earlier run keeps its interpreter.
if [ -x .venv/bin/python ] && [ -z "${LEADBASE_PYTHON:-}" ] && python_ok .venv/bin/python; then
  PY="$(cd .venv/bin && pwd)/python"
else
  PY=""
fi
[ -n "$PY" ] || PY="$(find_python)" || {
  say "Leadbase needs Python 3.12 or newer and none was found."
  say "Install one (e.g. 'apt-get install python3.12', 'pyenv install 3.12', or 'uv python install 3.12'),"
  say "or point LEADBASE_PYTHON at it, then run this command again."
  exit 1
}
UV="$(ensure_uv)"

stamp=".venv/.leadbase-installed"
if [ ! -f "$stamp" ] || [ uv.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing Python packages into .venv/ with $("$PY" -V 2>&1)"
  "$UV" sync --frozen --all-extras --python "$PY" >&2
  touch "$stamp"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if command -v npm >/dev/null 2>&1; then
    say "installing front-end packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >&2
  else
    say "npm was not found: install Node.js (e.g. 'apt-get install nodejs npm') and run this again."
    exit 1
  fi
fi
