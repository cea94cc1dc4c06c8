#!/usr/bin/env bash
# Integration test: chat templates rendered by cje-prep (llama.cpp's Jinja engine, through
# libcje-chat) are byte-identical to Python jinja2 rendering them as transformers'
# apply_chat_template does, with and without a system message: the 70 real templates the
# llama.cpp source distribution carries (models/templates, no weights needed) and the demo
# model's own (SmolLM2). Templates that read the date render the fixed day given.
# Usage: Tests/Integration/template-check.sh [path/to/cje-prep]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin template-check "${1:-}" --no-model

. "$here/venv.sh"
venv=$(venv_for Jinja2 "$JINJA2_VERSION")

check_workdir
sdist=$(ls "$CACHE"/downloads/llama_cpp_python-*.tar.gz | head -n1)
tar -xzf "$sdist" -C "$work" --wildcards '*/vendor/llama.cpp/models/templates/*'
templates=$(ls -d "$work"/*/vendor/llama.cpp/models/templates)
TMPDIR="$work" "$venv/bin/python" "$here/template_check.py" "$tool" "$templates" "${CJE_MODEL:?CJE_MODEL must name the demo model}"
