#!/usr/bin/env bash
# Runs a command with llama.cpp and the demo model bootstrapped (see bootstrap.sh), and with
# LLAMA_PREFIX, CJE_MODEL, PKG_CONFIG_PATH and LD_LIBRARY_PATH set for it. With
# CJE_BOOTSTRAP=llama-env, llama.cpp only (no model, no CJE_MODEL).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
eval "$("$here/bootstrap.sh" "${CJE_BOOTSTRAP:-env}" | sed 's/^/export /')"
export PKG_CONFIG_PATH="$LLAMA_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$LLAMA_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$LLAMA_PREFIX/bin:$PATH"
exec "$@"
