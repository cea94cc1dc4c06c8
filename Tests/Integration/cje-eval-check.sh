#!/usr/bin/env bash
# Integration test: both lines of the CJE library on PyPI read cje-prep's export unchanged.
#   cje-eval 0.3.0  off-policy: analyze_dataset(logged_data_path=cje_dataset.jsonl,
#                   fresh_draws_dir=responses) with calibrated IPS and DR
#   cje-eval 0.9.3  direct mode: analyze_dataset(fresh_draws_dir=responses), every policy and
#                   the logging policy p0 itself (cje/responses/p0_responses.jsonl)
# Usage: Tests/Integration/cje-eval-check.sh [path/to/cje-prep]
# Makes a small real run (12 prompts, every response oracle-labelled so the 0.3.0 calibrator
# has its 10 labels, 48-token answers), installs each library into its own cached virtual
# environment, and runs cje_eval_check.py in it. Then a paired-design run with
# transport probes (30 built-in prompts, 21 of them labelled for every policy), read by cje-eval
# 0.9.3: `cje validate` prints no warning, and the bundle's own analyze.py gives every policy the
# augmented route and grades every probe (cje_direct_check.py), with 1 and then 2 draws per
# prompt. Exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin cje-eval-check "${1:-}" --no-model

# One virtual environment per library version and Python, made once and reused.
. "$here/venv.sh"

check_workdir
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

# CJE's recommended design for comparing policies: every policy's response labelled on one
# seeded simple random sample of prompts (21 of the 30 built-in ones), plus 8 held-out probe
# prompts per target; then the same run extended to 2 draws per prompt.
sed -e 's/^n: 12/n: 30/' -e 's/fraction: 1.0/design: paired\n  fraction: 0.67\n  probes: 0.25/' \
    "$work/config.yaml" > "$work/paired.yaml"
sed -e 's/^n: 30/n: 30\ndraws: 2/' "$work/paired.yaml" > "$work/paired2.yaml"
say "making a paired-design run of 30 prompts with probes"
"$tool" run --config "$work/paired.yaml" --dir "$work/paired" > "$work/paired.log" 2>&1 || {
    cat "$work/paired.log" >&2
    say "FAILED: the paired run did not finish"
    exit 1
}
grep '^labels' "$work/paired.log" >&2 || true

status=0
for version in $CJE_EVAL_VERSIONS; do
    venv=$(venv_for cje-eval "$version")
    if "$venv/bin/python" "$here/cje_eval_check.py" "$version" "$work/run"; then
        say "cje-eval $version: ok"
    else
        say "cje-eval $version: FAILED"
        status=1
    fi
done

# cje-eval 0.9.3 on the paired bundle: `cje validate` has nothing to warn about, and the bundle's
# own analyze.py runs with the declared design, every route augmented, every probe graded; and
# again after the run is extended to 2 draws per prompt (both intervals are printed).
venv=$(venv_for cje-eval 0.9.3)
if "$venv/bin/python" -m cje validate "$work/paired/cje/responses" > "$work/validate.out" 2>&1 &&
    ! grep -qi 'warn' "$work/validate.out"; then
    say "cje-eval 0.9.3: cje validate on the paired bundle: ok, no warning"
else
    cat "$work/validate.out" >&2
    say "cje-eval 0.9.3: cje validate on the paired bundle: FAILED (an error or a warning)"
    status=1
fi
if "$venv/bin/python" "$here/cje_direct_check.py" "$work/paired" "paired, 1 draw"; then
    say "cje-eval 0.9.3: the paired bundle's analyze.py: ok"
else
    say "cje-eval 0.9.3: the paired bundle's analyze.py: FAILED"
    status=1
fi
# The same prompts with 2 draws per prompt: the run is extended (only the new draws are made).
say "extending the paired run to 2 draws per prompt"
"$tool" run --config "$work/paired2.yaml" --dir "$work/paired" > "$work/paired2.log" 2>&1 || {
    cat "$work/paired2.log" >&2
    say "FAILED: the 2-draw extension did not finish"
    exit 1
}
grep '^generate: .* done' "$work/paired2.log" | tail -1 >&2 || true
if "$venv/bin/python" "$here/cje_direct_check.py" "$work/paired" "paired, 2 draws"; then
    say "cje-eval 0.9.3: the 2-draw bundle's analyze.py: ok"
else
    say "cje-eval 0.9.3: the 2-draw bundle's analyze.py: FAILED"
    status=1
fi
exit $status
