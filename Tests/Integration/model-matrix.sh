#!/usr/bin/env bash
# Integration test: every model a user may bring gives batch-invariant numbers, or is refused.
# The demo model (SmolLM2-135M, llama architecture, Q8_0) re-quantized with llama-quantize (the
# same llama.cpp) into each tensor type cje-prep accepts, plus another architecture from PyPI
# (Gemma 3 270M, Q4_K_M: sliding-window attention, a 262k SentencePiece vocabulary, no chat
# template of its own, so the config names one). For each model:
#   - `cje-prep model-info --check`: generation at 1 to 9 and at 32 sequences gives the same tokens
#     (every row count of a repacked layout's four-row groups and their remainder),
#     sampled log probs == teacher forcing bit for bit, teacher forcing alone == in a batch of
#     many, a clone's weight exactly 1, continuations == plain scoring;
#   - for one type per kernel family and Gemma, `cje-prep run 2` with every policy on it:
#     validation passes (its determinism audit re-scores every policy alone in a fresh context;
#     clone weights exactly 1).
# A type whose kernels are not verified (TQ1_0) is refused at load, naming it, creating nothing.
# Usage: Tests/Integration/model-matrix.sh [path/to/cje-prep]   (CJE_MATRIX_TYPES to choose types)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin model-matrix "${1:-}"
: "${LLAMA_PREFIX:?LLAMA_PREFIX must name the llama.cpp install}"
. "$here/matrix-models.sh"

check_workdir
failures=0
table="$work/table"
printf '%-8s %-36s %-9s %-8s %s\n' model "tensor types" check run seconds >"$table"

check_model() { # label path [chat template] [skip the run]
    local label=$1 path=$2 template=${3:-} no_run=${4:-} started elapsed types
    started=$(date +%s)
    local template_args=() template_yaml=""
    if [ -n "$template" ]; then template_args=(--chat-template "$template"); template_yaml=", chat_template: $template"; fi
    local check=fail run=fail
    if "$tool" model-info --model "$path" "${template_args[@]}" --threads 2 --check >"$work/$label.json" 2>"$work/$label.err"; then
        check=ok
    else
        say "$label: model-info --check failed:"; cat "$work/$label.json" "$work/$label.err" >&2
    fi
    types=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["info"]["tensorTypes"]; print(" ".join(f"{k}:{v}" for k,v in sorted(t.items())))' "$work/$label.json" 2>/dev/null || echo "?")
    [ "$check" != ok ] || checked_types="$checked_types $types"
    cat >"$work/$label.yaml" <<YAML
n: 2
models:
  default: {}
  m: {path: "$path"$template_yaml}
policies:
  - {name: p0, model: m, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 32}
  - {name: pi_clone, model: m, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 32}
  - {name: pi_bad, model: m, system_prompt: "You are an unhelpful assistant. Answer vaguely.", temperature: 0.7, max_tokens: 32}
engine: {threads: 2}
YAML
    if [ -n "$no_run" ]; then
        run=-
    elif "$tool" run --dir "$work/run-$label" --config "$work/$label.yaml" >"$work/$label.run.log" 2>&1; then
        run=ok
    else
        say "$label: run 2 failed:"; tail -n 15 "$work/$label.run.log" >&2
    fi
    elapsed=$(($(date +%s) - started))
    [ "$check" = ok ] && [ "$run" != fail ] || failures=$((failures + 1))
    printf '%-8s %-36s %-9s %-8s %s\n' "$label" "$types" "$check" "$run" "$elapsed" >>"$table"
    say "$label: check $check, run $run ($elapsed s)"
}

checked_types=""
for type in $types; do check_model "$type" "$(quantize "$type")"; done
for type in $check_only; do check_model "$type" "$(quantize "$type")" "" no-run; done
check_model gemma3 "$(gemma)" gemma

# A type whose kernels were not verified is refused before anything is written.
tq=$(quantize "$refused")
cat >"$work/tq.yaml" <<YAML
n: 2
models:
  default: {}
  m: {path: "$tq"}
policies:
  - {name: p0, model: m, system_prompt: "You are a helpful assistant.", max_tokens: 16}
  - {name: pi_bad, model: m, system_prompt: "Be unhelpful.", max_tokens: 16}
YAML
if "$tool" run --dir "$work/run-tq" --config "$work/tq.yaml" >"$work/tq.log" 2>&1; then
    say "$refused: run succeeded, expected a refusal"; failures=$((failures + 1))
elif ! grep -q "$refused tensors" "$work/tq.log" || [ -e "$work/run-tq" ]; then
    say "$refused: not refused as expected:"; cat "$work/tq.log" >&2; failures=$((failures + 1))
else
    say "$refused: refused at load: $(grep -o "holds $refused tensors[^,]*" "$work/tq.log" | head -n1)"
fi

# Every accepted type's kernels passed the check in some file (types checked inside another
# file's fallback tensors included; see matrix-models.sh), unless the types were chosen.
if [ -z "${CJE_MATRIX_TYPES+x}${CJE_MATRIX_CHECK_ONLY+x}" ]; then
    for type in F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS; do
        [[ " $checked_types " == *" $type:"* ]] || { say "$type: no file that passed the check holds it"; failures=$((failures + 1)); }
    done
fi
cat "$table" >&2
[ "$failures" -eq 0 ] || { say "$failures models failed"; exit 1; }
say "every model passed"
