#!/usr/bin/env bash
# Integration test: both lines of the CJE library on PyPI read cje-prep's export unchanged.
#   cje-eval 0.3.0  off-policy: analyze_dataset(logged_data_path=cje_dataset.jsonl,
#                   fresh_draws_dir=responses) with calibrated IPS and DR
#   cje-eval 0.9.3  direct mode: analyze_dataset(fresh_draws_dir=responses), every policy and
#                   the logging policy p0 itself (cje/responses/p0_responses.jsonl)
# Usage: Tests/Integration/cje-eval-check.sh [path/to/cje-prep]
# Makes a small real run (12 prompts, every response oracle-labelled so the 0.3.0 calibrator
# has its 10 labels, 48-token answers), installs each library into its own cached virtual
# environment, and runs cje_eval_check.py in it. Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tool=${1:-"$here/../../.build/release/cje-prep"}
CACHE="${CJE_CACHE:-$HOME/.cache/cje-prep}"
say() { echo "cje-eval-check: $*" >&2; }

# One virtual environment per library version and Python, made once and reused.
. "$here/venv.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/cje-eval-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat > "$work/config.yaml" <<'YAML'
n: 12
policies:
  - name: p0
    system_prompt: "You are a helpful assistant. Answer clearly, accurately and concisely."
    max_tokens: 48
  - name: pi_clone
    system_prompt: "You are a helpful assistant. Answer clearly, accurately and concisely."
    max_tokens: 48
  - name: pi_bad
    system_prompt: "You are an unhelpful assistant. Give vague, evasive answers and never address the question."
    max_tokens: 48
oracle:
  fraction: 1.0
YAML
say "making a run of 12 prompts with $tool"
"$tool" run --config "$work/config.yaml" --dir "$work/run" > "$work/run.log" 2>&1 || {
    cat "$work/run.log" >&2
    say "FAILED: the run did not finish"
    exit 1
}
tail -3 "$work/run.log" >&2

status=0
for version in 0.3.0 0.9.3; do
    venv=$(venv_for cje-eval "$version")
    if "$venv/bin/python" "$here/cje_eval_check.py" "$version" "$work/run"; then
        say "cje-eval $version: ok"
    else
        say "cje-eval $version: FAILED"
        status=1
    fi
done
exit $status
