#!/usr/bin/env bash
# Integration test: the `make dist` bundle runs on a Debian that has no Swift and no compiler.
#   1. a minimal Debian root file system (Tests/Integration/debian-rootfs.sh: mmdebstrap
#      --variant=minbase, the host's release, from the host's apt sources; made once, kept in the cache)
#   2. the bundle unpacked into it under /opt, the demo model under /models; the root has no
#      swift, no cc, no libgomp of its own
#   3. `cje-prep --version` and `cje-prep run 3` inside a chroot, with an empty environment: the
#      data files (data/, phase2/, cje/) are byte-identical to the same run of the host's build
# Usage: Tests/Integration/bundle-check.sh BUNDLE.tar.gz [path/to/cje-prep]    (CJE_MODEL set)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bundle=$(cd "$(dirname "${1:?usage: bundle-check.sh BUNDLE.tar.gz [cje-prep]}")" && pwd)/$(basename "$1")
check_begin bundle-check "${2:-}"
[ -f "$bundle" ] || fail "no bundle at $bundle (make dist makes it)"
[ "$(id -u)" = 0 ] || { say "SKIPPED: chroot needs root"; exit 0; }

# 1. The root file system, once per Debian release and architecture.
. "$here/debian-rootfs.sh"
rootfs=$(debian_rootfs) || fail "no Debian root file system (above)"
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")

check_workdir
mounted=""
on_exit '[ -n "$mounted" ] && umount "$work/root/proc" 2>/dev/null'
root=$work/root
mkdir -p "$root"
tar -xf "$rootfs" -C "$root"

# 2. The bundle and the model; nothing else is added.
tar -xzf "$bundle" -C "$root/opt"
name=$(tar -tzf "$bundle" | awk -F/ 'NR == 1 { print $1 }')
mkdir -p "$root/models" "$root/runs"
cp "$CJE_MODEL" "$root/models/model.gguf"
for absent in swift swiftc cc gcc c++; do
    chroot "$root" /bin/sh -c "command -v $absent" >/dev/null 2>&1 && fail "the root file system has $absent"
done
chroot "$root" /bin/sh -c 'ls /usr/lib/*/libgomp.so* /lib/*/libgomp.so*' >/dev/null 2>&1 &&
    fail "the root file system has its own libgomp (the bundle must bring it)"
# /proc as a chroot sees it on a cluster node (CPU count, memory); the run works without it too.
mount -t proc proc "$root/proc" 2>/dev/null && mounted=1 || say "note: /proc could not be mounted in the chroot"

inside() { chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/bin:/bin "/opt/$name/bin/cje-prep" "$@"; }
version=$(inside --version) || fail "cje-prep --version did not run in the chroot"
echo "$version" | sed 's/^/  /' >&2
echo "$version" | grep -q "^commit " || fail "--version names no commit: $version"

# 3. The same run on the host and in the chroot.
{
    printf 'n: 3\nseed: 11\n'
    three_policies 24
} >"$work/config.yaml"
cp "$work/config.yaml" "$root/runs/config.yaml"
host=$(host_run "$work/config.yaml") || fail "the host's run failed"
say "cje-prep run 3 in the chroot (the bundle alone)"
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/bin:/bin CJE_MODEL=/models/model.gguf CJE_CHAT_DATE="$CJE_CHAT_DATE" \
    "/opt/$name/bin/cje-prep" run --dir /runs/r --config /runs/config.yaml >"$work/chroot.log" 2>&1 ||
    { tail -n 20 "$work/chroot.log" >&2; fail "the run in the chroot failed"; }
count=$(same_data_files "$host" "$root/runs/r" "the chroot") || fail "the chroot does not give the host's data files (above)"
say "ok: the bundle ran in a minimal Debian $suite without Swift; $count data files byte-identical to the host's run"
