#!/usr/bin/env bash
# Integration test: `make bench` works from a fresh clone, as a new user runs it. Through the same
# environment the Makefile gives it (scripts/with-env.sh exports the cache's own LLAMA_PREFIX), the
# bootstrap builds the same library's references (llama-perplexity, llama-batched-bench) into the
# cache's install, and one short round of `cje-prep bench` measures the engine beside them: every
# figure the table prints is there, with both references' and their ratios. (The stock llama-bench,
# a separate five-minute build of default flags, is not built here.)
# Usage: Tests/Integration/bench-check.sh [path/to/cje-prep]   (run through scripts/with-env.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin bench "${1:-}"
: "${LLAMA_PREFIX:?LLAMA_PREFIX must name the llama.cpp install (run through scripts/with-env.sh)}"
check_workdir

say "the references, built by the bootstrap with LLAMA_PREFIX=$LLAMA_PREFIX exported"
tools=$("$repo/scripts/bootstrap.sh" bench-tools 2>"$work/bootstrap.err") ||
    { cat "$work/bootstrap.err" >&2; fail "bootstrap.sh bench-tools refused or failed"; }
[ -x "$tools/bin/llama-perplexity" ] && [ -x "$tools/bin/llama-batched-bench" ] ||
    fail "no llama-perplexity and llama-batched-bench in $tools/bin"
# A llama.cpp from elsewhere without them is refused, naming the variable and what is missing.
mkdir -p "$work/elsewhere"
cp -r "$LLAMA_PREFIX/lib" "$LLAMA_PREFIX/include" "$LLAMA_PREFIX/COMMIT" "$LLAMA_PREFIX/PATCHES" "$work/elsewhere/" 2>/dev/null || true
mkdir -p "$work/elsewhere/bin"
if LLAMA_PREFIX="$work/elsewhere" "$repo/scripts/bootstrap.sh" bench-tools >/dev/null 2>"$work/elsewhere.err"; then
    fail "a LLAMA_PREFIX from elsewhere without the tools was taken"
fi
grep -q "LLAMA_PREFIX=$work/elsewhere" "$work/elsewhere.err" || { cat "$work/elsewhere.err" >&2; fail "the refusal does not name LLAMA_PREFIX"; }

say "one short round of cje-prep bench beside them"
"$tool" bench --model "$CJE_MODEL" --llama-tools "$tools/bin" --rounds 1 --gen-sequences 1,8 --gen-tokens 16 \
    --context-tokens 64 --score-sequences 2 --judge-items 2 --json >"$work/bench.json" 2>"$work/bench.err" ||
    { tail -n 20 "$work/bench.err" >&2; fail "cje-prep bench failed"; }
python3 - "$work/bench.json" <<'PY' || fail "the figures are incomplete (above)"
import json, sys
figures = json.load(open(sys.argv[1]))
need = ["perplexity_tok_s", "tf_tok_s", "tf_vs_perplexity", "batched_bench1_tg_tok_s", "batched_bench8_tg_tok_s",
        "gen1_tok_s", "gen8_tok_s", "gen1_vs_batched_bench", "gen8_vs_batched_bench", "judge_tok_s"]
missing = [k for k in need if not figures.get(k)]
if missing or figures.get("tf_failures"):
    print(f"bench: missing {missing}, tf_failures {figures.get('tf_failures')}; got {sorted(figures)}", file=sys.stderr)
    sys.exit(1)
print(f"bench: tf {figures['tf_tok_s']:.0f} tok/s beside llama-perplexity {figures['perplexity_tok_s']:.0f}; "
      f"8-sequence generation {figures['gen8_tok_s']:.0f} beside llama-batched-bench {figures['batched_bench8_tg_tok_s']:.0f}",
      file=sys.stderr)
PY
say "ok"
