#!/usr/bin/env bash
# Integration test: Direct mode for every policy, wherever it runs, against real servers.
#   1. Fully hosted: every policy on a real llama-server behind the fault-injecting proxy (a 429,
#      a 500 and a reset on the way), the judge and the oracle on a second one. `run` completes
#      with no refusal; every response carries its provenance; no policy has a log prob, each
#      says why; no off-policy set is written and the Direct-only sentence is in every place
#      that reads it; cje-eval 0.9.3 `cje validate` and the bundle's analyze.py pass; `publish`
#      writes a folder whose every config `datasets` loads.
#   2. A SIGKILL in the middle of a hosted run and a resume give the undisturbed run's files
#      byte for byte, and no request whose answer the killed run received is sent again.
#   3. Mixed: p0 and its clone local, one target hosted: the local log probs are the local-only
#      run's, bit for bit, and the hosted target says why it has none.
#   4. Teacher forcing over token ids against a vLLM stand-in (vllm_standin.py: vLLM's /tokenize
#      and /v1/completions prompt_logprobs on llama-cpp-python over the project's libllama): at
#      T = 1 the endpoint's log prob of every response equals the engine's within 1e-4 nats; a
#      policy and its clone served there get the clone's measured noise in dataset_info.json and
#      the report; a server that echoes other ids fails the items with why, one that returns no
#      prompt log probs fails them (retried), never a number; at T = 0.7 with temperature_probe, a
#      server that applies T passes the probe and equals the engine within 1e-4, and one that
#      ignores T (vLLM's behaviour) stops the run, named.
#   5. Bad input, each refused with a clear message and nothing written: an unknown
#      teacher_forcing, `logprobs: required` with a hosted policy, T != 1 on a vLLM endpoint, a
#      provider whose model id changes on resume; and Examples/arena-hosted.yaml through
#      prompts with its keys unset fails only on the missing key, naming it.
# Usage (through scripts/with-env.sh, CJE_LLAMA_TOOLS=1): Tests/Integration/hosted-check.sh [path/to/cje-prep]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin hosted-check "${1:-}"
. "$here/venv.sh"
check_workdir
[ -x "${LLAMA_PREFIX:-}/bin/llama-server" ] || fail "llama-server not found under LLAMA_PREFIX (run through scripts/with-env.sh with CJE_LLAMA_TOOLS=1)"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
healthy() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; }
wait_healthy() { # url log what
    for _ in $(seq 600); do healthy "$1" && return 0; sleep 0.1; done
    tail -20 "$2" >&2
    fail "$3 did not start"
}
# A llama-server with the demo model: deterministic for one request at a time (no repacked
# weights, no prompt cache, flash attention off, one slot unless told), answering as model $2.
start_server() { # name alias slots
    local port
    port=$(free_port)
    "$LLAMA_PREFIX/bin/llama-server" -m "$CJE_MODEL" --host 127.0.0.1 --port "$port" -t 2 -c $((2048 * $3)) \
        --parallel "$3" --no-webui -fa off --no-warmup --no-repack --no-cache-prompt --alias "$2" \
        > "$work/$1.log" 2>&1 &
    on_exit "kill $!"
    eval "$1_pid=$!"
    eval "$1_url=http://127.0.0.1:$port"
    wait_healthy "http://127.0.0.1:$port/health" "$work/$1.log" "llama-server $1"
}
start_proxy() { # name upstream faults [log]
    rm -f "$work/$1.port"
    FAULT_PROXY_LOG=${4:-} python3 "$here/fault_proxy.py" "$2" "$work/$1.port" "$3" &
    on_exit "kill $!"
    eval "$1_pid=$!"
    for _ in $(seq 100); do [ -s "$work/$1.port" ] && break; sleep 0.1; done
    eval "$1_url=http://127.0.0.1:$(cat "$work/$1.port")"
}
run_tool() { # log args...
    local log=$1
    shift
    "$tool" "$@" > "$log" 2>&1 || {
        tail -30 "$log" >&2
        fail "cje-prep $* did not finish (log: $log)"
    }
}
refused() { # what message config dir
    if "$tool" run 3 --config "$3" --dir "$4" > "$work/refused.log" 2>&1; then
        fail "$1 was not refused"
    fi
    grep -qF -- "$2" "$work/refused.log" || {
        cat "$work/refused.log" >&2
        fail "$1: the message does not say \"$2\""
    }
    say "refused, nothing written: $1"
}
data_files() { (cd "$1" && find data phase2 cje -type f | sort | xargs sha256sum); }

start_server writer smollm2-writer 2
start_server grader smollm2-grader 2
start_proxy flaky "$writer_url" 429,500,reset

# --- 1. Every policy hosted --------------------------------------------------------------------
hosted_config() { # writer-url n concurrent
    cat <<YAML
n: $2
seed: 11
max_failure_rate: 1.0
providers:
  writer:
    base_url: $1/v1
    model: smollm2-writer
    api_key_env: none
    max_concurrent: $3
    max_attempts: 4
    timeout: 60
  grader:
    base_url: $grader_url/v1
    model: smollm2-grader
    api_key_env: none
    max_concurrent: $3
    prefill: true
policies:
  - {name: p0, provider: writer, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 24}
  - {name: pi_clone, provider: writer, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 24}
  - {name: pi_bad, provider: writer, system_prompt: "You are an unhelpful assistant.", temperature: 0.7, max_tokens: 24}
judge: {provider: grader}
oracle: {provider: grader, design: paired, fraction: 0.5, probes: 0.25}
decision_margin: 0.05
YAML
}
hosted_config "$flaky_url" 10 2 > "$work/hosted.yaml"
say "a run of 10 prompts with every policy, the judge and the oracle on llama-servers"
run_tool "$work/hosted.log" run --config "$work/hosted.yaml" --dir "$work/hosted"
grep -q "refus" "$work/hosted.log" && fail "the hosted run printed a refusal"
grep -q "^export: Direct mode only: 'p0', 'pi_clone', 'pi_bad' on provider 'writer'" "$work/hosted.log" ||
    fail "the export did not say the run is Direct mode only"
[ ! -e "$work/hosted/cje/cje_dataset.jsonl" ] || fail "an off-policy set was written without log probs"
python3 - "$work/hosted" <<'PY' || fail "the hosted run's files (above)"
import json, sys
run = sys.argv[1]
problems = []
for line in open(f"{run}/data/all_responses.jsonl"):
    record = json.loads(line)
    for policy, r in record["responses"].items():
        if r.get("response") is None:
            continue
        want = {"provider": "writer", "served_model": "smollm2-writer"}
        if any(r.get(k) != v for k, v in want.items()) or "usage" not in r or r.get("finish_reason") not in ("stop", "length") or "seed" not in r:
            problems.append(f"{record['prompt_id']}/{policy}: provenance {r}")
for line in open(f"{run}/data/logprobs.jsonl"):
    record = json.loads(line)
    if any(v is not None for v in record["logprobs"].values()) or record["errors"] or set(record.get("unavailable", {})) != {"p0", "pi_clone", "pi_bad"}:
        problems.append(f"logprobs {record['prompt_id']}: {record['logprobs']} {record['errors']} {record.get('unavailable')}")
info = json.load(open(f"{run}/data/dataset_info.json"))
design = json.load(open(f"{run}/cje/label_design.json"))
for name, doc in (("dataset_info.json", info), ("label_design.json", design)):
    if not doc.get("direct_only", "").startswith("Direct mode only:"):
        problems.append(f"{name} has no direct_only sentence")
if not info["passed"]:
    problems.append(f"validation failed: {info['failures']}")
if json.load(open(f"{run}/manifest.json")).get("servedModels") != {"writer": "smollm2-writer", "grader": "smollm2-grader"}:
    problems.append("manifest servedModels")
page = open(f"{run}/report/index.html").read()
if 'id="direct"' not in page or "Direct mode only" not in page or 'id="weights"' in page:
    problems.append("the report does not lead with Direct mode")
for p in problems[:10]:
    print("hosted-check:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
say "every response carries its provider, model id, seed, finish reason and usage; no log prob, each with why; Direct mode only, said in the console, dataset_info.json, label_design.json and the report"
proxy=$(python3 -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + "/stats"))["faults"])' "$flaky_url")
say "the writer's proxy injected $proxy on the way"

venv=$(venv_for cje-eval 0.9.3)
"$venv/bin/python" -m cje validate "$work/hosted/cje/responses" > "$work/validate.out" 2>&1 || {
    cat "$work/validate.out" >&2
    fail "cje-eval 0.9.3: cje validate on the hosted Direct bundle"
}
(cd "$work/hosted/cje" && "$venv/bin/python" analyze.py -o "$work/hosted-results.json") > "$work/analyze.out" 2>&1 || {
    tail -20 "$work/analyze.out" >&2
    fail "cje-eval 0.9.3: analyze.py on the hosted Direct bundle"
}
say "cje-eval 0.9.3: cje validate and analyze.py pass on the hosted Direct bundle"

run_tool "$work/publish.log" publish "$work/hosted" --to "$work/published"
[ ! -e "$work/published/data/logged.jsonl" ] || fail "publish wrote the off-policy config of a Direct-only run"
grep -q "Direct mode only" "$work/published/README.md" || fail "the card does not say the run is Direct mode only"
datasets=$(venv_for datasets "$DATASETS_VERSION")
"$datasets/bin/python" - "$work/published" <<'PY' || fail "datasets could not load the published configs"
import re, sys
from datasets import load_dataset
folder = sys.argv[1]
card = open(f"{folder}/README.md").read()
names = list(dict.fromkeys(re.findall(r"^- config_name: (\S+)", card, re.M)))
for name in names:
    rows = load_dataset(folder, name, split="train")
    print(f"hosted-check: datasets loads {name}: {len(rows)} rows", file=sys.stderr)
assert "logged" not in names and "responses" in names, names
PY
say "publish: the card says Direct mode only, has no off-policy config, and datasets loads every config"

say "(section done at $SECONDS s)"
# --- 2. SIGKILL and resume ---------------------------------------------------------------------
start_server steady smollm2-writer 1
start_proxy counted "$steady_url" "" "$work/paid.log"
hosted_config "$counted_url" 4 1 > "$work/steady.yaml"
run_tool "$work/clean.log" run --config "$work/steady.yaml" --dir "$work/clean"
: > "$work/paid.log"
"$tool" run --config "$work/steady.yaml" --dir "$work/killed" > "$work/killed.log" 2>&1 &
victim=$!
for _ in $(seq 600); do
    [ "$(cat "$work/killed/state/generate.journal.jsonl" 2>/dev/null | wc -l)" -ge 5 ] && break
    sleep 0.1
done
kill -9 "$victim" 2>/dev/null || fail "the run finished before it could be killed"
wait "$victim" 2>/dev/null || true
before=$(wc -l < "$work/paid.log")
cp "$work/paid.log" "$work/paid-before.log"
run_tool "$work/resumed.log" run --config "$work/steady.yaml" --dir "$work/killed"
diff <(data_files "$work/clean") <(data_files "$work/killed") > "$work/kill.diff" || {
    head -20 "$work/kill.diff" >&2
    fail "killed and resumed, the run's files differ from the undisturbed run's"
}
again=$(tail -n +"$((before + 1))" "$work/paid.log" | cut -d' ' -f1 | sort | comm -12 - <(cut -d' ' -f1 "$work/paid-before.log" | sort) | wc -l)
[ "$again" -eq 0 ] || fail "$again request(s) answered before the kill were sent again after it"
say "killed after $before answered requests and resumed: the undisturbed run's files byte for byte, no answered request sent again"

say "(section done at $SECONDS s)"
# --- 3. Mixed ----------------------------------------------------------------------------------
mixed_config() { # extra policy line
    cat <<YAML
n: 6
seed: 11
providers:
  writer: {base_url: "$writer_url/v1", model: smollm2-writer, api_key_env: none, max_concurrent: 2}
policies:
  - {name: p0, system_prompt: "You are a helpful assistant.", max_tokens: 32}
  - {name: pi_clone, system_prompt: "You are a helpful assistant.", max_tokens: 32}
$1
oracle: {fraction: 0.5}
YAML
}
mixed_config '  - {name: pi_bad, system_prompt: "You are an unhelpful assistant.", max_tokens: 32}' > "$work/local.yaml"
mixed_config '  - {name: pi_hosted, provider: writer, system_prompt: "You are an unhelpful assistant.", max_tokens: 32}' > "$work/mixed.yaml"
run_tool "$work/local.log" run --config "$work/local.yaml" --dir "$work/local" --through logprobs
run_tool "$work/mixed.log" run --config "$work/mixed.yaml" --dir "$work/mixed"
python3 - "$work/local" "$work/mixed" <<'PY' || fail "the mixed run's log probs (above)"
import json, sys
local = {json.loads(l)["prompt_id"]: json.loads(l) for l in open(f"{sys.argv[1]}/data/logprobs.jsonl")}
problems = []
for line in open(f"{sys.argv[2]}/data/logprobs.jsonl"):
    r = json.loads(line)
    l = local[r["prompt_id"]]
    for policy in ("p0", "pi_clone"):
        if r["logprobs"][policy] is None or r["logprobs"][policy] != l["logprobs"][policy]:
            problems.append(f"{r['prompt_id']}/{policy}: {r['logprobs'][policy]} vs local-only {l['logprobs'][policy]}")
    if r["logprobs"]["pi_hosted"] is not None or "declares no teacher_forcing" not in r.get("unavailable", {}).get("pi_hosted", ""):
        problems.append(f"{r['prompt_id']}/pi_hosted: {r['logprobs']['pi_hosted']} {r.get('unavailable')}")
for p in problems[:10]:
    print("hosted-check:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
grep -q '"passed" : true' "$work/mixed/data/dataset_info.json" || fail "the mixed run did not validate"
say "mixed: p0's and pi_clone's log probs are the local-only run's bit for bit; pi_hosted says why it has none"

say "(section done at $SECONDS s)"
# --- 4. Teacher forcing over token ids -----------------------------------------------------------
llama_py=$(venv_llama_cpp_python)
start_standin() { # name [options]
    local name=$1
    shift
    rm -f "$work/$name.port"
    LLAMA_CPP_LIB_PATH="$LLAMA_PREFIX/lib" "$llama_py/bin/python" "$here/vllm_standin.py" "$CJE_MODEL" \
        "$work/$name.port" --served-model-name smollm2-vllm "$@" > "$work/$name.log" 2>&1 &
    on_exit "kill $!"
    for _ in $(seq 300); do [ -s "$work/$name.port" ] && break; sleep 0.1; done
    [ -s "$work/$name.port" ] || {
        cat "$work/$name.log" >&2
        fail "the vLLM stand-in did not start"
    }
    eval "${name}_url=http://127.0.0.1:$(cat "$work/$name.port")"
}
start_standin vllm
tf_config() { # url policies...
    cat <<YAML
n: 8
seed: 11
max_failure_rate: 1.0
providers:
  served: {base_url: "$1/v1", model: smollm2-vllm, api_key_env: none, max_concurrent: 4, teacher_forcing: vllm}
policies:
$2
oracle: {fraction: 0.5}
YAML
}
tf_config "$vllm_url" '  - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 1, max_tokens: 32}
  - {name: p0_served, provider: served, system_prompt: "You are a helpful assistant.", temperature: 1, max_tokens: 32}
  - {name: bad_served, provider: served, system_prompt: "You are an unhelpful assistant.", temperature: 1, max_tokens: 32}
  - {name: pi_bad, system_prompt: "You are an unhelpful assistant.", temperature: 1, max_tokens: 32}' > "$work/tf.yaml"
run_tool "$work/tf.log" run 6 --config "$work/tf.yaml" --dir "$work/tf" --through export
python3 - "$work/tf" <<'PY' || fail "teacher forcing over HTTP against the engine (above)"
import json, sys
worst, n, problems = 0.0, 0, []
for line in open(f"{sys.argv[1]}/data/logprobs.jsonl"):
    r = json.loads(line)
    for local, served in (("p0", "p0_served"), ("pi_bad", "bad_served")):
        a, b = r["logprobs"][local], r["logprobs"][served]
        if a is None or b is None or r["logprob_methods"].get(served) != "vllm" or r["logprob_methods"].get(local) != "local":
            problems.append(f"{r['prompt_id']}/{served}: {b} ({r['errors'].get(served)}) vs {a}")
            continue
        worst, n = max(worst, abs(a - b)), n + 1
print(f"hosted-check: {n} responses teacher-forced on the stand-in and on the engine: largest difference {worst:.3g} nats", file=sys.stderr)
if worst > 1e-4:
    problems.append(f"largest difference {worst} nats > 1e-4")
for p in problems[:10]:
    print("hosted-check:", p, file=sys.stderr)
sys.exit(1 if problems or n == 0 else 0)
PY
[ -e "$work/tf/cje/cje_dataset.jsonl" ] || fail "every policy has log probs, but no off-policy set was written"
say "teacher forcing over token ids at T = 1 equals the engine's within 1e-4 nats; the off-policy set is written"

# At T = 0.7: a stand-in that applies the request's temperature passes the probe and gives the
# engine's values at 0.7; vLLM's behaviour (T = 1 whatever is asked) stops the run, naming it.
start_standin hot --applies-temperature
probe_config() { # url
    tf_config "$1" '  - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 32}
  - {name: p0_served, provider: served, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 32}' |
        sed 's/teacher_forcing: vllm}/teacher_forcing: vllm, temperature_probe: true}/'
}
probe_config "$hot_url" > "$work/hot-probe.yaml"
run_tool "$work/hot-probe.log" run 4 --config "$work/hot-probe.yaml" --dir "$work/hot-probe" --through logprobs
python3 - "$work/hot-probe" <<'PY' || fail "teacher forcing at T = 0.7 against the engine (above)"
import json, sys
worst, n = 0.0, 0
for line in open(f"{sys.argv[1]}/data/logprobs.jsonl"):
    r = json.loads(line)
    a, b = r["logprobs"]["p0"], r["logprobs"]["p0_served"]
    if a is None or b is None:
        sys.exit(f"hosted-check: {r['prompt_id']}: {a} {b} {r['errors']}")
    worst, n = max(worst, abs(a - b)), n + 1
print(f"hosted-check: at T = 0.7, {n} responses: largest difference {worst:.3g} nats", file=sys.stderr)
sys.exit(0 if worst <= 1e-4 else 1)
PY
probe_config "$vllm_url" > "$work/cold-probe.yaml"
if "$tool" run 2 --config "$work/cold-probe.yaml" --dir "$work/cold-probe" --through logprobs > "$work/cold-probe.log" 2>&1; then
    fail "an endpoint that ignores the temperature passed the probe"
fi
grep -q "provider 'served' (temperature_probe: true) gave the same log probs at 0.7 as at 1" "$work/cold-probe.log" || {
    tail -3 "$work/cold-probe.log" >&2
    fail "the failed probe is not named"
}
say "temperature_probe: a server that applies T passes and equals the engine at 0.7 within 1e-4; one that ignores T stops the run, named"

# P0 and its clone served by the stand-in: the clone's weights measure the endpoint.
tf_config "$vllm_url" '  - {name: p0, provider: served, system_prompt: "You are a helpful assistant.", temperature: 1, max_tokens: 32}
  - {name: clone, provider: served, system_prompt: "You are a helpful assistant.", temperature: 1, max_tokens: 32}
  - {name: pi_bad, system_prompt: "You are an unhelpful assistant.", temperature: 1, max_tokens: 32}' > "$work/noise.yaml"
run_tool "$work/noise.log" run 4 --config "$work/noise.yaml" --dir "$work/noise"
grep -q '"clone_noise"' "$work/noise/data/dataset_info.json" || fail "no clone noise in dataset_info.json"
grep -q "Clone noise (clone)" "$work/noise/report/index.html" || fail "no clone noise in the report"
grep -q "clone noise: |log w|" "$work/noise.log" || fail "validate did not print the clone noise"
say "a clone served on the endpoint: $(grep -o 'clone noise: .*' "$work/noise.log" | head -1)"

start_standin echoes --echo-other-ids
start_standin silent --no-prompt-logprobs
for fault in echoes:"scored other token ids" silent:"returned no prompt log prob"; do
    name=${fault%%:*}
    eval "url=\$${name}_url"
    tf_config "$url" '  - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 1, max_tokens: 32}
  - {name: served, provider: served, system_prompt: "Be brief.", temperature: 1, max_tokens: 32}' > "$work/$name.yaml"
    run_tool "$work/$name-run.log" run 2 --config "$work/$name.yaml" --dir "$work/$name-run" --through logprobs
    python3 - "$work/$name-run" "${fault#*:}" <<'PY' || fail "$name: the endpoint's fault (above)"
import json, sys
for line in open(f"{sys.argv[1]}/data/logprobs.jsonl"):
    r = json.loads(line)
    if r["logprobs"]["served"] is not None or sys.argv[2] not in r["errors"].get("served", ""):
        sys.exit(f"hosted-check: {r['prompt_id']}: {r['logprobs']['served']} {r['errors']}")
PY
    say "an endpoint that $( [ "$name" = echoes ] && echo "echoes other ids" || echo "returns no prompt log probs"): every item failed with why, no number"
done

say "(section done at $SECONDS s)"
# --- 5. Bad input ------------------------------------------------------------------------------
sed 's/teacher_forcing: vllm/teacher_forcing: tgi/' "$work/tf.yaml" > "$work/bad-protocol.yaml"
refused "an unknown teacher_forcing" "'providers.served.teacher_forcing' is 'tgi', expected one of vllm" \
    "$work/bad-protocol.yaml" "$work/bad1"
(cat "$work/mixed.yaml"; echo "logprobs: required") > "$work/required.yaml"
refused "logprobs: required with a hosted policy" "'logprobs' is 'required'" "$work/required.yaml" "$work/bad2"
sed 's/name: p0_served, provider: served, system_prompt: "You are a helpful assistant.", temperature: 1/name: p0_served, provider: served, system_prompt: "You are a helpful assistant.", temperature: 0.7/' \
    "$work/tf.yaml" > "$work/hot.yaml"
refused "T = 0.7 on a vLLM endpoint" "'policies[1].temperature' is 0.7 for 'p0_served'" "$work/hot.yaml" "$work/bad3"
for dir in bad1 bad2 bad3; do [ ! -e "$work/$dir" ] || fail "a refused config wrote $work/$dir"; done

# The endpoint now serves another model: the resume stops, naming the provider; nothing changes.
kill "$steady_pid"
wait "$steady_pid" 2>/dev/null || true
start_server steady smollm2-writer-v2 1
start_proxy counted "$steady_url" ""
# A second draw per prompt (draws may grow): new requests, to an endpoint that now serves another model.
(hosted_config "$counted_url" 4 1; echo "draws: 2") > "$work/steady7.yaml"
before=$(data_files "$work/clean")
if "$tool" run --config "$work/steady7.yaml" --dir "$work/clean" > "$work/changed.log" 2>&1; then
    fail "a provider answering with another model id was not refused"
fi
grep -q "provider 'writer' now answers with model 'smollm2-writer-v2'" "$work/changed.log" || {
    tail -5 "$work/changed.log" >&2
    fail "the model change is not named"
}
[ "$before" = "$(data_files "$work/clean")" ] || fail "the refused resume changed the run's files"
say "refused, files untouched: a resume whose endpoint now answers with another model id"

# The ready example: loads, and through prompts fails only on the unset key, naming it.
if env -u FIREWORKS_API_KEY -u OPENAI_API_KEY "$tool" run --config "$repo/Examples/arena-hosted.yaml" \
    --dir "$work/example" --through prompts > "$work/example.log" 2>&1; then
    fail "Examples/arena-hosted.yaml ran without its keys"
fi
grep -q "FIREWORKS_API_KEY" "$work/example.log" && [ "$(grep -ci 'error' "$work/example.log")" -le 1 ] || {
    cat "$work/example.log" >&2
    fail "Examples/arena-hosted.yaml did not fail on its missing key alone"
}
[ ! -e "$work/example/data" ] || fail "Examples/arena-hosted.yaml wrote data without its keys"
say "Examples/arena-hosted.yaml loads, and fails only on the unset key: $(grep -m1 FIREWORKS_API_KEY "$work/example.log")"
say "ok in $SECONDS s"
