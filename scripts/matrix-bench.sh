#!/usr/bin/env bash
# The engine beside llama.cpp's own tools on one model of each kernel family of the model matrix
# (Tests/Integration/model-matrix.sh makes them in $CJE_CACHE/matrix-models) and on the demo
# model: teacher forcing beside llama-perplexity and 32-sequence generation beside
# llama-batched-bench's S_TG, the same library, one round each (`cje-prep bench`). With
# BEFORE=<another cje-prep binary>, that binary is measured back to back with this one.
# Usage: scripts/matrix-bench.sh [path/to/cje-prep]   (run inside scripts/with-env.sh; `make matrix-bench`)
# CJE_BENCH_ONLY="Q4_K gemma-3-270m-q4_k_m" measures only those models.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tool=${1:-.build/release/cje-prep}
CACHE="${CJE_CACHE:-$HOME/.cache/cje-prep}"
models="$CACHE/matrix-models"
threads=${CJE_BENCH_THREADS:-2}
tools="$("$here/bootstrap.sh" bench-tools)/bin"
ls "$models"/*.gguf >/dev/null 2>&1 || { echo "matrix-bench: no models in $models: run Tests/Integration/model-matrix.sh first" >&2; exit 1; }
# Q4_0 and Q4_K_M as users download them (mixed per-tensor types), made here when missing.
. "$here/../Tests/Integration/matrix-models.sh"
for type in Q4_0 Q4_K_M; do user_quantized "$type" >/dev/null; done

bench() { # binary model [template] -> "tf ppl tf/ppl gen32 bb32 gen32/bb32"
    local args=(bench --model "$2" --threads "$threads" --rounds 1 --score-sequences 8 --judge-items 1
        --gen-sequences 32 --llama-tools "$tools" --json)
    [ -n "${3:-}" ] && args+=(--chat-template "$3")
    "$1" "${args[@]}" 2>/dev/null | python3 -c '
import json, sys
f = json.load(sys.stdin)
g = lambda k, fmt="%.1f": fmt % f[k] if k in f else "n/a"
print(g("tf_tok_s"), g("perplexity_tok_s"), g("tf_vs_perplexity", "%.2f"), g("gen32_tok_s"),
      g("batched_bench32_tg_tok_s"), g("gen32_vs_batched_bench", "%.2f"))' 2>/dev/null ||
        echo "n/a n/a n/a n/a n/a n/a"
}

row='%-12s %-7s | %-9s %-9s %-5s | %-9s %-9s %-5s\n'
printf "$row" "" "" "teacher" "llama-" "" "gen x32" "batched-" ""
printf "$row" model build "forcing" "perplex." ratio "(steps)" "bench" ratio
for path in "$CJE_MODEL" "$models"/*.gguf; do
    name=$(basename "$path" .gguf)
    label=${name#SmolLM2-135M-Instruct.}
    [ "$path" = "$CJE_MODEL" ] && label="demo $label"
    case "$label" in *TQ1_0*) continue ;; esac
    # One model of each kernel family (the matrix runs these whole) and the other architecture.
    case "$label" in "demo "* | F16 | Q4_0 | Q4_K | IQ4_NL | user-* | gemma*) ;; *) continue ;; esac
    if [ -n "${CJE_BENCH_ONLY:-}" ] && [[ " $CJE_BENCH_ONLY " != *" ${label#demo } "* ]]; then continue; fi
    template=""
    case "$name" in gemma*) template=gemma ;; esac
    if [ -n "${BEFORE:-}" ]; then
        # shellcheck disable=SC2046
        printf "$row" "$label" before $(bench "$BEFORE" "$path" "$template")
    fi
    # shellcheck disable=SC2046
    printf "$row" "$label" this $(bench "$tool" "$path" "$template")
done
