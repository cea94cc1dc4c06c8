#!/usr/bin/env bash
# Integration test: chat templates rendered by cje-prep (llama.cpp's Jinja engine, through
# libcje-chat) are byte-identical to Python jinja2 rendering them as transformers'
# apply_chat_template does, with and without a system message: the 70 real templates the
# llama.cpp source distribution carries (models/templates, no weights needed) and the demo
# model's own (SmolLM2). Templates that read the date render the fixed day given.
# Usage: Tests/Integration/template-check.sh [path/to/cje-prep]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tool=${1:-"$here/../../.build/release/cje-prep"}
CACHE="${CJE_CACHE:-$HOME/.cache/cje-prep}"
say() { echo "template-check: $*" >&2; }

. "$here/venv.sh"
venv=$(venv_for Jinja2 "$JINJA2_VERSION")

work=$(mktemp -d "${TMPDIR:-/tmp}/template-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
sdist=$(ls "$CACHE"/downloads/llama_cpp_python-*.tar.gz | head -n1)
tar -xzf "$sdist" -C "$work" --wildcards '*/vendor/llama.cpp/models/templates/*'
templates=$(ls -d "$work"/*/vendor/llama.cpp/models/templates)
TMPDIR="$work" "$venv/bin/python" "$here/template_check.py" "$tool" "$templates" "${CJE_MODEL:?CJE_MODEL must name the demo model}"
