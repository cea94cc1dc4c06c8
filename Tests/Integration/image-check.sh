#!/usr/bin/env bash
# Integration test: the container image of deploy/container/Containerfile builds from a local
# base, and `cje-prep run 2` inside it gives the host's data files byte for byte (buildah,
# installed with apt-get when missing; about 40 s here once the root file system is cached).
#   1. the base: the minimal Debian root file system of debian-rootfs.sh, committed as an image
#      with buildah (vfs storage: no overlay mounts needed)
#   2. `scripts/image.sh` with buildah (`bud --isolation chroot`), the base given as BASE
#   3. `buildah run` of the image (its own user, uid 10001) with the model and a run folder
#      mounted: `cje-prep --version`, then `cje-prep run 2`, compared with the host's run
# Usage: Tests/Integration/image-check.sh BUNDLE.tar.gz [path/to/cje-prep]   (CJE_MODEL set)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bundle=$(cd "$(dirname "${1:?usage: image-check.sh BUNDLE.tar.gz [cje-prep]}")" && pwd)/$(basename "$1")
check_begin image-check "${2:-}"
need_packages buildah:buildah
. "$here/debian-rootfs.sh"
rootfs=$(debian_rootfs) || fail "no Debian root file system (above)"
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
bh() { buildah --storage-driver vfs "$@"; }

check_workdir
containers=()
on_exit 'for c in "${containers[@]}"; do bh rm "$c" >/dev/null 2>&1 || true; done'

# 1. The base image from the root file system.
base=localhost/cje-debian-minbase
if ! bh inspect --type image "$base" >/dev/null 2>&1; then
    say "committing $rootfs as $base"
    c=$(bh from scratch)
    containers+=("$c")
    mnt=$(bh mount "$c") || fail "buildah mount failed"
    tar -xf "$rootfs" -C "$mnt"
    bh umount "$c" >/dev/null
    bh commit -q "$c" "$base" >/dev/null || fail "buildah commit of the base failed"
fi

# 2. The image.
say "building the image (scripts/image.sh with buildah)"
image=$(CJE_CONTAINER_TOOL=buildah CJE_IMAGE_OPTIONS="--storage-driver vfs --isolation chroot --build-arg BASE=$base" \
    "$repo/scripts/image.sh" "$bundle") || fail "the image did not build"

# 3. The image's cje-prep, as its own user, on the demo model.
mkdir -p "$work/models" "$work/runs"
cp "$CJE_MODEL" "$work/models/model.gguf"
{
    printf 'n: 2\nseed: 13\n'
    three_policies 24
} >"$work/runs/config.yaml"
chmod 0777 "$work/runs"
c=$(bh from "$image")
containers+=("$c")
in_image() {
    bh run --isolation chroot -v "$work/models:/models:ro" -v "$work/runs:/runs" \
        --env CJE_MODEL=/models/model.gguf --env CJE_CHAT_DATE="$CJE_CHAT_DATE" "$c" -- "$@"
}
version=$(in_image cje-prep --version) || fail "cje-prep --version did not run in the image"
echo "$version" | sed 's/^/  /' >&2
user=$(in_image id -u)
[ "$user" = 10001 ] || fail "the image runs as uid $user, not 10001"
in_image cje-prep run --dir /runs/r --config /runs/config.yaml >"$work/image.log" 2>&1 ||
    { tail -n 20 "$work/image.log" >&2; fail "the run in the image failed"; }
"$tool" run --dir "$work/host" --config "$work/runs/config.yaml" >"$work/host.log" 2>&1 ||
    { tail -n 20 "$work/host.log" >&2; fail "the host's run failed"; }
count=$(same_data_files "$work/host" "$work/runs/r" "the image") || fail "the image does not give the host's data files (above)"
say "ok: $image built from a local Debian base; run 2 in it (uid 10001): $count data files byte-identical to the host's"
