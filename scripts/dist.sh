#!/usr/bin/env bash
# `make dist`: dist/cje-prep-<version>-linux-<arch>.tar.gz, one folder that runs on a machine with
# the same glibc generation and no Swift:
#   bin/cje-prep   the Swift runtime and Foundation linked in (statically); finds
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

# The development build's objects, linked a second time: with the Swift runtime and Foundation
# static (-static-stdlib) and an $ORIGIN rpath instead of the cache's. The modules compile once
# (`make build`'s flags, so after `make build` or `make test` nothing recompiles); the link
# command is SwiftPM's own for cje-prep, read from its build manifest, so the product's linker
# settings (Package.swift) are not repeated here. Objects compiled against the shared Foundation
# name its shared libraries only; linked statically, Foundation needs the libraries the shared one
# carries inside (CoreFoundation, ICU and two shims), added by name. If that link cannot be made
# (no python3 to read the manifest, a toolchain with other libraries), the product is built a
# second time with --static-swift-stdlib in its own directory (.build/dist, about 6 minutes).
say "building cje-prep $version"
swift build -c release --product cje-prep -Xlinker -rpath -Xlinker "$LLAMA_PREFIX/lib" >&2
stage=$(mktemp -d "${TMPDIR:-/tmp}/cje-prep-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/$name
mkdir -p "$root/bin" "$root/lib"
binary=$root/bin/cje-prep
relink() { # the link arguments of .build's cje-prep, with the output, runtime and rpath changed
    local manifest=.build/release.yaml
    [ -f "$manifest" ] && command -v python3 >/dev/null || return 1
    python3 - "$manifest" "$binary" "$LLAMA_PREFIX/lib" "$stage/link.log" <<'PY' || { tail -n 5 "$stage/link.log" >&2; return 1; }
import json, subprocess, sys
manifest, output, dev_rpath, log = sys.argv[1:]
open(log, "w").close()
lines = open(manifest).read().splitlines()
wanted = [i for i, l in enumerate(lines) if l.strip().startswith('description: "Linking ') and l.rstrip().endswith('/release/cje-prep"')]
if len(wanted) != 1 or not lines[wanted[0] + 1].strip().startswith("args: "):
    sys.exit("no single link command for cje-prep in " + manifest)
args = json.loads(lines[wanted[0] + 1].strip()[len("args: "):])
out = args.index("-o") + 1
args[out] = output
for i in range(len(args) - 3):  # the development build's rpath to the cache's llama.cpp
    if args[i:i + 3] == ["-Xlinker", "-rpath", "-Xlinker"] and args[i + 3] == dev_rpath:
        del args[i:i + 4]
        break
else:
    sys.exit("no rpath to " + dev_rpath + " in the link command")
args[1:1] = ["-static-stdlib"]
args += ["-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../lib",
         "-lCoreFoundation", "-l_FoundationCShims", "-l_FoundationCollections", "-l_FoundationICU"]
with open(log, "w") as out:
    sys.exit(subprocess.run(args, stdout=out, stderr=subprocess.STDOUT).returncode)
PY
}
if relink; then
    linked="the development build's objects relinked with -static-stdlib"
else
    say "the relink failed; building the product again with --static-swift-stdlib in .build/dist"
    swift build -c release --product cje-prep --static-swift-stdlib --scratch-path "$repo/.build/dist" \
        -Xlinker -rpath -Xlinker '$ORIGIN/../lib' >&2
    cp .build/dist/release/cje-prep "$binary"
    linked="--static-swift-stdlib"
fi
strip --strip-debug "$binary" 2>/dev/null || true

# Every library the binary loads from the llama.cpp install, under the name it asks for, and
# libgomp. Anything from the Swift toolchain would mean the runtime is not linked in.
deps=$(LD_LIBRARY_PATH="$LLAMA_PREFIX/lib" ldd "$binary")
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
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(swift --version 2>&1 | grep -m1 -o 'Swift version [^ ]*'), $linked, on $(. /etc/os-release && echo "$PRETTY_NAME"), $(ldd --version | head -n1 | grep -o '[0-9.]*$' | sed 's/^/glibc /')"
    echo "llama.cpp $(cat "$LLAMA_PREFIX/COMMIT") (the llama-cpp-python 0.3.36 sdist), profile $(cat "$LLAMA_PREFIX/PROFILE")"
    echo "llama.cpp flags: $(tr '\n' ' ' <"$LLAMA_PREFIX/FLAGS" | sed 's/ $//')"
    [ -f "$LLAMA_PREFIX/PATCHES" ] && echo "llama.cpp patches: $(tr '\n' ' ' <"$LLAMA_PREFIX/PATCHES" | sed 's/ $//')"
    echo "needs from the system: ${system[*]}"
} >"$root/BUILD"

# The bundle must start with nothing but its own folder: no library path, no toolchain on PATH.
env -i "$binary" --version >"$stage/version.txt" 2>&1 ||
    { cat "$stage/version.txt" >&2; die "the bundle's cje-prep does not start"; }

mkdir -p "$out"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$stage" -czf "$out/$name.tar.gz.part" "$name"
mv -f "$out/$name.tar.gz.part" "$out/$name.tar.gz"
sed 's/^/  /' "$stage/version.txt" >&2
say "$out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1))"
echo "$out/$name.tar.gz"
