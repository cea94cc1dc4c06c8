#!/usr/bin/env bash
# `make image`: the container image of deploy/container/Containerfile from the `make dist`
# bundle, with whichever of podman, buildah or docker is installed (CJE_CONTAINER_TOOL picks one).
# Tags cje-prep:<version> and cje-prep:latest. Push it to the registry the Kubernetes manifests
# name, e.g.: podman push cje-prep:<version> registry.example.com/cje-prep:<version>
# Extra build options (a local base: --build-arg BASE=localhost/debian-minbase; buildah's
# --isolation chroot --storage-driver vfs) go in $CJE_IMAGE_OPTIONS.
# Usage: scripts/image.sh BUNDLE.tar.gz
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bundle=${1:?usage: image.sh BUNDLE.tar.gz}
die() { echo "image: error: $*" >&2; exit 1; }
[ -f "$bundle" ] || die "no bundle at $bundle (make dist makes it)"
tool=${CJE_CONTAINER_TOOL:-}
if [ -z "$tool" ]; then
    for candidate in podman buildah docker; do
        command -v "$candidate" >/dev/null && { tool=$candidate; break; }
    done
fi
[ -n "$tool" ] || die "no container tool: install podman, buildah or docker (Debian: apt-get install podman), or set CJE_CONTAINER_TOOL"
version=$(tar -xzOf "$bundle" --wildcards "*/VERSION")
context=$(mktemp -d "${TMPDIR:-/tmp}/cje-prep-image.XXXXXX")
trap 'rm -rf "$context"' EXIT
# The build context is the bundle alone (not the work tree, which holds gigabytes of build).
cp "$bundle" "$context/"
build=(build)
[ "$tool" = buildah ] && build=(bud)
# shellcheck disable=SC2086 # the options are words on purpose
"$tool" "${build[@]}" ${CJE_IMAGE_OPTIONS:-} -f "$repo/deploy/container/Containerfile" \
    --build-arg BUNDLE="$(basename "$bundle")" -t "cje-prep:$version" -t cje-prep:latest "$context" >&2
echo "image: cje-prep:$version (and cje-prep:latest), built with $tool" >&2
echo "cje-prep:$version"
