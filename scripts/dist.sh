#!/usr/bin/env bash
# `make dist`: dist/cje-prep-<version>-linux-<arch>.tar.gz, one folder that runs on a machine with
# the same glibc generation and no Swift:
#   bin/cje-prep   the Swift runtime and Foundation linked in (--static-swift-stdlib); finds
#                  lib/ through its $ORIGIN/../lib rpath
#   lib/           llama.cpp's shared libraries and libcje-chat from the bootstrapped install
#                  (its profile: portable by default, the same bits as every other machine), and
#                  the OpenMP runtime they use (a minimal Debian has no libgomp)
#   VERSION, BUILD the release; the commit, toolchain, llama.cpp commit, profile and flags
#                  (`cje-prep --version` prints them)
# The demo model is not inside: a run names a path, an `hf:` reference, or the bootstrapped cache.
# Usage (through scripts/with-env.sh, which sets LLAMA_PREFIX): scripts/dist.sh [out-dir]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
out=${1:-$repo/dist}
say() { echo "dist: $*" >&2; }
die() { echo "dist: error: $*" >&2; exit 1; }
: "${LLAMA_PREFIX:?LLAMA_PREFIX must name the llama.cpp install (run through scripts/with-env.sh)}"

version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/CJEPrepKit/BuildInfo.swift)
[ -n "$version" ] || die "no version in Sources/CJEPrepKit/BuildInfo.swift"
name=cje-prep-$version-linux-$(uname -m)

# Its own build directory: the static runtime and the $ORIGIN rpath are link settings the
# development build (dynamic, rpath to the cache) does not share. Only the link differs; the
# modules compile once per directory.
say "building cje-prep $version with the Swift runtime linked in"
swift build -c release --product cje-prep --static-swift-stdlib --scratch-path "$repo/.build/dist" \
    -Xlinker -rpath -Xlinker '$ORIGIN/../lib' >&2

stage=$(mktemp -d "${TMPDIR:-/tmp}/cje-prep-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/$name
mkdir -p "$root/bin" "$root/lib"
cp .build/dist/release/cje-prep "$root/bin/cje-prep"
strip --strip-debug "$root/bin/cje-prep" 2>/dev/null || true

# Every library the binary loads from the llama.cpp install, under the name it asks for, and
# libgomp. Anything from the Swift toolchain would mean the runtime is not linked in.
deps=$(LD_LIBRARY_PATH="$LLAMA_PREFIX/lib" ldd "$root/bin/cje-prep")
if echo "$deps" | grep -q 'not found'; then echo "$deps" >&2; die "a library of cje-prep was not found"; fi
if echo "$deps" | grep -qi 'swift'; then echo "$deps" >&2; die "cje-prep still loads the Swift runtime"; fi
system=()
while read -r needed _ path _; do
    case "$path" in
    "$LLAMA_PREFIX"/* | */libgomp.so*) cp -L "$path" "$root/lib/$needed" ;;
    /*) system+=("$needed") ;;
    esac
done < <(echo "$deps" | grep '=>')
compgen -G "$root/lib/libllama.so*" >/dev/null || die "cje-prep does not load libllama.so from $LLAMA_PREFIX"

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
echo "$version" >"$root/VERSION"
{
    echo "commit $commit"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(swift --version 2>&1 | grep -m1 -o 'Swift version [^ ]*'), --static-swift-stdlib, on $(. /etc/os-release && echo "$PRETTY_NAME"), $(ldd --version | head -n1 | grep -o '[0-9.]*$' | sed 's/^/glibc /')"
    echo "llama.cpp $(cat "$LLAMA_PREFIX/COMMIT") (the llama-cpp-python 0.3.36 sdist), profile $(cat "$LLAMA_PREFIX/PROFILE")"
    echo "llama.cpp flags: $(tr '\n' ' ' <"$LLAMA_PREFIX/FLAGS" | sed 's/ $//')"
    echo "needs from the system: ${system[*]}"
} >"$root/BUILD"

# The bundle must start with nothing but its own folder: no library path, no toolchain on PATH.
env -i "$root/bin/cje-prep" --version >"$stage/version.txt" 2>&1 ||
    { cat "$stage/version.txt" >&2; die "the bundle's cje-prep does not start"; }

mkdir -p "$out"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$stage" -czf "$out/$name.tar.gz.part" "$name"
mv -f "$out/$name.tar.gz.part" "$out/$name.tar.gz"
sed 's/^/  /' "$stage/version.txt" >&2
say "$out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1))"
echo "$out/$name.tar.gz"
