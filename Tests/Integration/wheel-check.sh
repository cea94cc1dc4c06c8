#!/usr/bin/env bash
# Integration test: `pip install` of the `make wheel` wheel in a Debian that has Python but no
# Swift and no compiler.
#   1. a minimal Debian root file system with python3-venv (debian-rootfs.sh; made once, cached)
#   2. a fresh virtual environment in it; the wheel installed from the file (no index, no network)
#   3. `cje-prep --version` and `python -m cje_prep --version` print the same build, the bundle's;
#      `cje-prep run 3` with the venv's command gives the host build's data files, byte for byte
# Usage: Tests/Integration/wheel-check.sh WHEEL [path/to/cje-prep]    (CJE_MODEL set; root)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
wheel=$(cd "$(dirname "${1:?usage: wheel-check.sh WHEEL [cje-prep]}")" && pwd)/$(basename "$1")
check_begin wheel-check "${2:-}"
[ -f "$wheel" ] || fail "no wheel at $wheel (make wheel makes it)"
[ "$(id -u)" = 0 ] || { say "SKIPPED: chroot needs root"; exit 0; }
. "$here/debian-rootfs.sh"
rootfs=$(debian_rootfs python3-venv) || fail "no Debian root file system with python3-venv (above)"

check_workdir
mounted=""
on_exit '[ -n "$mounted" ] && umount "$work/root/proc" 2>/dev/null'
root=$work/root
mkdir -p "$root"
tar -xf "$rootfs" -C "$root"
mkdir -p "$root/models" "$root/runs" "$root/wheels"
cp "$CJE_MODEL" "$root/models/model.gguf"
cp "$wheel" "$root/wheels/"
for absent in swift swiftc cc gcc c++; do
    chroot "$root" /bin/sh -c "command -v $absent" >/dev/null 2>&1 && fail "the root file system has $absent"
done
mount -t proc proc "$root/proc" 2>/dev/null && mounted=1 || say "note: /proc could not be mounted in the chroot"
inside() {
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/opt/venv/bin:/usr/bin:/bin \
        CJE_MODEL=/models/model.gguf CJE_CHAT_DATE="$CJE_CHAT_DATE" "$@"
}

say "pip install $(basename "$wheel") into a fresh virtual environment"
inside python3 -m venv /opt/venv >"$work/venv.log" 2>&1 || { cat "$work/venv.log" >&2; fail "python3 -m venv failed"; }
inside pip install --no-index --no-deps --disable-pip-version-check -q "/wheels/$(basename "$wheel")" \
    >"$work/pip.log" 2>&1 || { cat "$work/pip.log" >&2; fail "pip install failed"; }
command=$(inside cje-prep --version) || fail "the cje-prep command did not run"
module=$(inside python -m cje_prep --version) || fail "python -m cje_prep did not run"
echo "$command" | sed 's/^/  /' >&2
[ "$command" = "$module" ] || fail "cje-prep --version and python -m cje_prep --version differ"
echo "$command" | grep -q "^commit " || fail "--version names no commit (not the bundle's build): $command"

{
    printf 'n: 3\nseed: 11\n'
    three_policies 24
} >"$root/runs/config.yaml"
host=$(host_run "$root/runs/config.yaml") || fail "the host's run failed"
say "cje-prep run 3 in the chroot, from the wheel"
inside cje-prep run --dir /runs/r --config /runs/config.yaml >"$work/chroot.log" 2>&1 ||
    { tail -n 20 "$work/chroot.log" >&2; fail "the run from the wheel failed"; }
count=$(same_data_files "$host" "$root/runs/r" "the wheel's run") || fail "the wheel does not give the host's data files (above)"
say "ok: pip installed the wheel in a minimal Debian without Swift; cje-prep and python -m cje_prep print one build; $count data files byte-identical to the host's run"
