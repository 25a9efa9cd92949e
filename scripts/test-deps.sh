#!/usr/bin/env bash
# Installs the system programs some tests need: Graphviz `dot` (the dot layout engine),
# Chromium (the visualizer's browser check), tmux (the progress bar, seen in a
# terminal), iproute2's `ip` (the cluster test across network namespaces), poppler's
# `pdftoppm` (renders the image flipper's PDFs back into pixels) and Python with venv
# (the comparison with Python Dask). Skips what is already there.
set -euo pipefail

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
# scripts/bench-vs-dask.sh makes a Python virtual environment.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3 python3-venv)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "test-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "test-deps: not root and no sudo; tests needing ${missing[*]} will be skipped" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
