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
# prompt. Last, a run with injected failures: the judge on a real llama-server behind the
# fault-injecting proxy, whose first two requests fail (max_attempts 1): the two rows without a
# judge score are kept in cje/frame/ as missing (stage, error) and counted in label_design.json,
# and cje-eval 0.9.3 validates and analyses the bundle without error. Exits non-zero on any
# failure.
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
# Injected failures: the judge answers from a llama-server behind the fault proxy, which fails
# the first two requests with a 500; with one attempt per request those two rows fail for good.
[ -x "${LLAMA_PREFIX:-}/bin/llama-server" ] || fail "llama-server not found under LLAMA_PREFIX (run through scripts/with-env.sh with CJE_LLAMA_TOOLS=1)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
server_port=$(free_port)
"$LLAMA_PREFIX/bin/llama-server" -m "$CJE_MODEL" --host 127.0.0.1 --port "$server_port" -t 1 -c 4096 \
    --parallel 2 --no-webui -fa off --no-warmup > "$work/llama-server.log" 2>&1 &
server_pid=$!
on_exit "kill $server_pid"
healthy() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; }
for _ in $(seq 300); do healthy "http://127.0.0.1:$server_port/health" && break; sleep 0.1; done
healthy "http://127.0.0.1:$server_port/health" || {
    cat "$work/llama-server.log" >&2
    fail "llama-server did not start"
}
python3 "$here/fault_proxy.py" "http://127.0.0.1:$server_port" "$work/proxy-port" 500,500 &
on_exit "kill $!"
for _ in $(seq 100); do [ -s "$work/proxy-port" ] && break; sleep 0.1; done
cat > "$work/faults.yaml" <<YAML
n: 12
max_failure_rate: 0.5
providers:
  flaky:
    base_url: http://127.0.0.1:$(cat "$work/proxy-port")/v1
    model: smollm2
    api_key_env: none
    max_attempts: 1
    max_concurrent: 1
    prefill: true
$(three_policies 48)
judge:
  provider: flaky
oracle:
  fraction: 0.5
YAML
say "making a run with injected failures (two of the judge's requests refused)"
"$tool" run --config "$work/faults.yaml" --dir "$work/faults" > "$work/faults.log" 2>&1 || {
    cat "$work/faults.log" >&2
    fail "the run with injected failures did not finish"
}
if python3 - "$work/faults" <<'PY'; then
import json, sys
run = sys.argv[1]
design = json.load(open(f"{run}/cje/label_design.json"))["policies"]
problems, missing = [], []
for policy in ("p0", "pi_clone", "pi_bad"):
    rows = [json.loads(line) for line in open(f"{run}/cje/frame/{policy}.jsonl")]
    gone = [r for r in rows if r["status"] == "missing"]
    missing += gone
    kept = sum(1 for line in open(f"{run}/cje/responses/{policy}_responses.jsonl") if line.strip())
    if len(rows) != 12 or kept != 12 - len(gone):
        problems.append(f"{policy}: {len(rows)} frame rows, {len(gone)} missing, {kept} in the responses file")
    counts = design[policy]
    if counts.get("frame_rows") != 12 or counts.get("missing", {}).get("judge") != len(gone):
        problems.append(f"{policy}: label_design.json has {counts.get('frame_rows')} frame rows, missing {counts.get('missing')}")
# The two refused requests, and any answer the small judge gave that could not be read: each
# missing at the judge, with its error.
refused = [r for r in missing if "HTTP 500" in (r["error"] or "")]
if len(refused) != 2 or any(r["missing_stage"] != "judge" or not r["error"] for r in missing):
    problems.append(f"expected the 2 refused rows missing at the judge, every missing row with its error: {missing}")
for problem in problems:
    print(f"cje-eval-check: FAILED: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
    say "the rows the judge failed (the two refused) are in cje/frame/, marked missing with their stage and error"
else
    status=1
fi
if "$venv/bin/python" -m cje validate "$work/faults/cje/responses" > "$work/faults-validate.out" 2>&1; then
    say "cje-eval 0.9.3: cje validate on the bundle with missing rows: ok"
else
    cat "$work/faults-validate.out" >&2
    say "cje-eval 0.9.3: cje validate on the bundle with missing rows: FAILED"
    status=1
fi
if (cd "$work/faults/cje" && "$venv/bin/python" analyze.py -o "$work/faults-results.json") > "$work/faults-analyze.out" 2>&1; then
    say "cje-eval 0.9.3: analyze.py on the bundle with missing rows: ok"
else
    tail -20 "$work/faults-analyze.out" >&2
    say "cje-eval 0.9.3: analyze.py on the bundle with missing rows: FAILED"
    status=1
fi
exit $status
