#!/usr/bin/env bash
# Integration test: the portable llama.cpp build (scripts/bootstrap.sh, CJE_LLAMA_PROFILE=portable,
# the default) gives the same bits on a CPU without AVX-512. `cje-prep probe` teacher-forces a few
# items and samples an answer, printing every log prob's bits; it runs natively and under
# qemu-user emulating a Haswell (AVX2, FMA, F16C; no AVX-512), and the two outputs must be equal:
# on the demo model, and on its Q4_0 re-quantization, whose weights the engine repacks.
# Usage: Tests/Integration/portable-check.sh [path/to/cje-prep]    (CJE_MODEL, LLAMA_PREFIX set)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin portable-check "${1:-}"
: "${LLAMA_PREFIX:?LLAMA_PREFIX must name the llama.cpp install (run through scripts/with-env.sh)}"

profile=$(cat "$LLAMA_PREFIX/PROFILE" 2>/dev/null || echo native)
if [ "$profile" != portable ]; then
    say "SKIPPED: $LLAMA_PREFIX is a $profile build; this check is about the portable profile"
    exit 0
fi
case "$(uname -m)" in
x86_64) ;;
*) say "SKIPPED: the emulated CPU here is an x86-64 Haswell; this machine is $(uname -m)"; exit 0 ;;
esac
need_packages qemu-x86_64:qemu-user
# The demo model (Q8_0: tinyBLAS and vec_dot), and Q4_0 in the repacked layout the engine keeps
# for it (one-row gemv and four-row gemm kernels), the demo model re-quantized (matrix-models.sh).
. "$here/matrix-models.sh"
compare() { # label model
    local label=$1 model=$2 native native_start native_seconds limit start status emulated
    native_start=$(date +%s.%N)
    native=$("$tool" probe --model "$model" --threads 1)
    native_seconds=$(awk -v a="$native_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    # Emulation is slow (one translated instruction stream, no vector units) but bounded: the probe
    # is a few hundred tokens. The bound is generous for a loaded machine and says so when it is hit.
    limit=${CJE_EMULATION_LIMIT:-1500}
    start=$(date +%s)
    status=0
    emulated=$(timeout --kill-after=10 "$limit" qemu-x86_64 -cpu Haswell "$tool" probe --model "$model" --threads 1 \
        2>"${TMPDIR:-/tmp}/portable-check.err") || status=$?
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        tail -n 20 "${TMPDIR:-/tmp}/portable-check.err" >&2
        say "FAILED: $label: the emulated probe did not finish within $limit s (natively it took $native_seconds s; load: $(cut -d' ' -f1-3 /proc/loadavg)); CJE_EMULATION_LIMIT raises the bound"
        exit 1
    elif [ "$status" != 0 ]; then
        cat "${TMPDIR:-/tmp}/portable-check.err" >&2
        say "FAILED: $label: the probe did not run on the emulated Haswell"
        exit 1
    fi
    echo "$native" | sed "s/^/  $label native:   /" >&2
    if [ "$native" != "$emulated" ]; then
        diff <(echo "$native") <(echo "$emulated") >&2
        say "FAILED: $label: the emulated Haswell gives other bits than this CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2))"
        exit 1
    fi
    say "ok: $label: the same bits natively and on an emulated Haswell ($(($(date +%s) - start)) s emulated, $native_seconds s native)"
}
compare demo "$CJE_MODEL"
compare "Q4_0 repacked" "$(quantize Q4_0)"
