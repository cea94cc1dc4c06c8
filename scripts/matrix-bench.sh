#!/usr/bin/env bash
# Throughput of every model of the model matrix (Tests/Integration/model-matrix.sh makes them in
# $CJE_CACHE/matrix-models): teacher forcing and 32-sequence generation (`cje-prep bench`), beside
# llama-bench of the same llama.cpp with ggml-cpu's tiled K-quant product on and off (the engine
# keeps it off for batch invariance). With BEFORE=<another cje-prep binary>, that binary is
# measured back to back with this one on each model, for a before/after comparison.
# Usage: scripts/matrix-bench.sh [path/to/cje-prep]   (run inside scripts/with-env.sh; `make matrix-bench`)
# CJE_BENCH_ONLY="Q4_K Q6_K gemma-3-270m-q4_k_m" measures only those models.
set -euo pipefail
tool=${1:-.build/release/cje-prep}
CACHE="${CJE_CACHE:-$HOME/.cache/cje-prep}"
models="$CACHE/matrix-models"
threads=${CJE_BENCH_THREADS:-2}
ls "$models"/*.gguf >/dev/null 2>&1 || { echo "matrix-bench: no models in $models: run Tests/Integration/model-matrix.sh first" >&2; exit 1; }

bench() { # binary model [template] -> "score_tok_s gen32_tok_s"
    local args=(bench --model "$2" --threads "$threads" --score-sequences 4 --judge-items 1 --gen-sequences 32
        --gen-tokens 32 --llama-bench /bin/false --json)
    [ -n "${3:-}" ] && args+=(--chat-template "$3")
    "$1" "${args[@]}" 2>/dev/null | python3 -c 'import json,sys; f=json.load(sys.stdin); print("%.1f %.1f" % (f["score_tok_s"], f["gen32_tok_s"]))' 2>/dev/null ||
        echo "n/a n/a"
}
llama_bench() { # model tiled(0|1) -> "pp512 tg128"
    GGML_CPU_TILED_MM=$2 "$LLAMA_PREFIX/bin/llama-bench" -m "$1" -t "$threads" -p 512 -n 64 -fa 0 -r 1 -o json 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin); pp=[x["avg_ts"] for x in r if x["n_prompt"]>0][0]; tg=[x["avg_ts"] for x in r if x["n_gen"]>0][0]; print("%.1f %.1f" % (pp, tg))' ||
        echo "n/a n/a"
}

printf '%-8s | %-21s | %-21s | %-25s\n' "" "teacher forcing tok/s" "generation x32 tok/s" "llama-bench pp512 / tg64"
printf '%-8s | %-10s %-10s | %-10s %-10s | %-12s %-12s\n' model before after before after "tiled on" "tiled off"
for path in "$models"/*.gguf; do
    name=$(basename "$path" .gguf)
    case "$name" in *TQ1_0*) continue ;; esac
    template=""
    case "$name" in gemma*) template=gemma ;; esac
    label=${name#SmolLM2-135M-Instruct.}
    if [ -n "${CJE_BENCH_ONLY:-}" ] && [[ " $CJE_BENCH_ONLY " != *" $label "* ]]; then continue; fi
    before="n/a n/a"
    [ -n "${BEFORE:-}" ] && before=$(bench "$BEFORE" "$path" "$template")
    after=$(bench "$tool" "$path" "$template")
    on=$(llama_bench "$path" 1)
    off=$(llama_bench "$path" 0)
    read -r bs bg <<<"$before"
    read -r as ag <<<"$after"
    printf '%-8s | %-10s %-10s | %-10s %-10s | %-12s %-12s\n' "$label" "$bs" "$as" "$bg" "$ag" "${on/ //}" "${off/ //}"
done
