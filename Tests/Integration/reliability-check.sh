#!/usr/bin/env bash
# Integration test: a real run under the conditions of real clusters, each resumed to the data
# set of an undisturbed run, byte for byte.
#   1. one writer: a second `run` on a running directory is refused naming the holder, while
#      `status` still reads it; progress reaches a non-terminal stdout as it happens
#   2. SIGTERM mid-generate, SIGTERM mid-judge: exit 143, the log's last line says how to
#      resume, every finished item is journaled; the resume is the reference
#   3. SIGINT twice mid-logprobs: the second exits at once (130)
#   4. SIGKILL after k items were journaled: the resume computes only the others
#   5. a full disk (a small tmpfs, filled): the error names the file and ENOSPC; after space is
#      freed the resume is the reference; a read-only remount is an error naming EROFS
# Usage: Tests/Integration/reliability-check.sh [path/to/cje-prep]    (CJE_MODEL must be set)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin reliability-check "${1:-}"

check_workdir
disk="$work/disk"
on_exit 'jobs -p | xargs -r kill -9 2>/dev/null'
on_exit 'mountpoint -q "$disk" 2>/dev/null && umount "$disk"'

# Two sequences at a time, so that items finish one after another and a signal lands mid-stage
# (the engine's shape changes no number).
{
    printf 'n: 6\nseed: 11\n'
    three_policies 32
    echo "engine: {threads: 2, max_sequences: 2}"
} >"$work/config.yaml"
run() { "$tool" run --dir "$1" --config "$work/config.yaml"; }
start_run() { # dir out: a run in the background, stdout to a file (not a terminal); $! is its pid
    "$tool" run --dir "$1" --config "$work/config.yaml" >"$2" 2>&1 &
}
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
wait_lines() { # journal count: until it has at least count lines
    for _ in $(seq 1 1200); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.1; done
    fail "$1 did not reach $2 lines in 120 s"
}
same_data() { # dir what
    local a b
    a=$(cd "$work/reference" && find data phase2 cje -type f | sort | xargs sha256sum)
    b=$(cd "$1" && find data phase2 cje -type f | sort | xargs sha256sum)
    [ "$(echo "$a" | wc -l)" -ge 15 ] || fail "$2: only $(echo "$a" | wc -l) data files in the reference"
    [ "$a" = "$b" ] || { diff <(echo "$a") <(echo "$b") >&2; fail "$2: the files differ from the undisturbed run's"; }
    say "ok: $2: $(echo "$a" | wc -l) data files byte-identical to the undisturbed run's"
}
last_log_line() { tail -n 1 "$(ls -t "$1"/logs/run-*.log | head -1)"; }
manifest_done_now() { # dir stage
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['stages'][sys.argv[2]]['doneNow'])" \
        "$1/manifest.json" "$2"
}
stop_with() { # signal pid dir out code what
    local signal=$1 pid=$2 dir=$3 out=$4 code=$5 what=$6 status=0
    kill "-$signal" "$pid"
    wait "$pid" || status=$?
    [ "$status" = "$code" ] || { cat "$out" >&2; fail "$what: exit $status, expected $code"; }
    last_log_line "$dir" | grep -q "stopped by SIG$signal after .* s; everything finished is saved: run the same command to resume" ||
        { last_log_line "$dir" >&2; fail "$what: the log's last line does not say how to resume"; }
    grep -q "stopped by SIG$signal" "$out" || fail "$what: the console did not say it stopped"
    say "ok: $what: exit $status, log ends \"$(last_log_line "$dir" | cut -d' ' -f3-)\""
}

say "undisturbed reference run"
start=$(date +%s)
run "$work/reference" >"$work/reference.out" 2>&1 || { cat "$work/reference.out" >&2; fail "the reference run failed"; }
say "  $(($(date +%s) - start)) s"

say "one writer per directory; progress reaches a file as it happens; SIGTERM mid-generate"
start_run "$work/term-gen" "$work/term-gen.out"
pid=$!
wait_lines "$work/term-gen/state/generate.journal.jsonl" 2
grep -q "^generate: [0-9]*/18 done" "$work/term-gen.out" ||
    { cat "$work/term-gen.out" >&2; fail "no progress line in the (non-terminal) stdout while running"; }
say "ok: progress lines are in stdout (a file) while the run goes on"
if "$tool" run --dir "$work/term-gen" --config "$work/config.yaml" >"$work/second.out" 2>&1; then
    fail "a second run on a running directory was not refused"
fi
grep -q "is in use by \`cje-prep run\` (pid $pid on $(hostname)" "$work/second.out" ||
    { cat "$work/second.out" >&2; fail "the refusal does not name the holder"; }
say "ok: refused: $(head -1 "$work/second.out")"
"$tool" status --dir "$work/term-gen" >/dev/null || fail "status did not read a running directory"
done_before=$(lines "$work/term-gen/state/generate.journal.jsonl")
stop_with TERM "$pid" "$work/term-gen" "$work/term-gen.out" 143 "SIGTERM mid-generate"
journaled=$(lines "$work/term-gen/state/generate.journal.jsonl")
[ "$journaled" -ge "$done_before" ] && [ "$journaled" -lt 18 ] || fail "generate journal holds $journaled of 18 after the stop"
run "$work/term-gen" >"$work/term-gen2.out" 2>&1 || { cat "$work/term-gen2.out" >&2; fail "the resume failed"; }
[ "$(manifest_done_now "$work/term-gen" generate)" = $((18 - journaled)) ] ||
    fail "the resume generated $(manifest_done_now "$work/term-gen" generate) items, expected $((18 - journaled))"
same_data "$work/term-gen" "SIGTERM mid-generate ($journaled of 18 journaled), then resume"

say "SIGTERM mid-judge"
start_run "$work/term-judge" "$work/term-judge.out"
pid=$!
wait_lines "$work/term-judge/state/judge.journal.jsonl" 2
stop_with TERM "$pid" "$work/term-judge" "$work/term-judge.out" 143 "SIGTERM mid-judge"
judged=$(lines "$work/term-judge/state/judge.journal.jsonl")
run "$work/term-judge" >"$work/term-judge2.out" 2>&1 || { cat "$work/term-judge2.out" >&2; fail "the resume failed"; }
same_data "$work/term-judge" "SIGTERM mid-judge ($judged journaled), then resume"

say "SIGINT twice mid-logprobs: the second exits at once"
start_run "$work/int" "$work/int.out"
pid=$!
wait_lines "$work/int/state/logprobs.journal.jsonl" 1
kill -INT "$pid"
sleep 0.2
kill -INT "$pid" 2>/dev/null || true
status=0
wait "$pid" || status=$?
[ "$status" = 130 ] || { cat "$work/int.out" >&2; fail "two SIGINTs: exit $status, expected 130"; }
say "ok: two SIGINTs: exit 130"
run "$work/int" >"$work/int2.out" 2>&1 || { cat "$work/int2.out" >&2; fail "the resume failed"; }
same_data "$work/int" "SIGINT twice mid-logprobs, then resume"

say "SIGKILL after k items were journaled"
start_run "$work/kill" "$work/kill.out"
pid=$!
wait_lines "$work/kill/state/generate.journal.jsonl" 5
kill -9 "$pid"
{ wait "$pid"; } 2>/dev/null || true
k=$(lines "$work/kill/state/generate.journal.jsonl")
run "$work/kill" >"$work/kill2.out" 2>&1 || { cat "$work/kill2.out" >&2; fail "the resume after SIGKILL failed"; }
[ "$(manifest_done_now "$work/kill" generate)" = $((18 - k)) ] ||
    fail "after SIGKILL with $k journaled the resume generated $(manifest_done_now "$work/kill" generate), expected $((18 - k))"
say "ok: SIGKILL with $k of 18 journaled: the resume generated the other $((18 - k)) only"
same_data "$work/kill" "SIGKILL, then resume"

say "a full disk"
if [ "$(id -u)" != 0 ] || ! { mkdir -p "$disk" && mount -t tmpfs -o size=4m tmpfs "$disk"; } 2>/dev/null; then
    fail "the full-disk test needs root to mount a tmpfs (run as root, as CI does)"
fi
# All but 64 KiB taken by a filler file: the run (about 30 files, some 150 KiB on a tmpfs) fills the rest.
fill=$(($(df -k --output=avail "$disk" | tail -1) - 64))
dd if=/dev/zero of="$disk/filler" bs=1k count="$fill" status=none 2>/dev/null || true
status=0
run "$disk/run" >"$work/disk.out" 2>&1 || status=$?
[ "$status" != 0 ] || fail "the run on a full disk succeeded"
grep -q "cannot write $disk/run/.*: No space left on device (ENOSPC)" "$work/disk.out" ||
    { cat "$work/disk.out" >&2; fail "the full-disk error does not name the file and ENOSPC"; }
say "ok: full disk: $(grep -o "cannot write $disk/run/[^:]*: No space left on device (ENOSPC)" "$work/disk.out" | head -1 | sed "s|$disk|<tmpfs>|")"
for journal in "$disk"/run/state/*.journal.jsonl; do
    [ -z "$(tail -c 1 "$journal")" ] || fail "$journal ends mid-line after the failed write"
done
rm "$disk/filler"
run "$disk/run" >"$work/disk2.out" 2>&1 || { cat "$work/disk2.out" >&2; fail "the resume after freeing space failed"; }
same_data "$disk/run" "full disk, space freed, resumed"
mount -o remount,ro "$disk"
status=0
"$tool" run 7 --dir "$disk/run" --config "$work/config.yaml" >"$work/ro.out" 2>&1 || status=$?
[ "$status" != 0 ] || fail "a run on a read-only disk succeeded"
grep -q "$disk/run.*Read-only file system (EROFS)" "$work/ro.out" ||
    { cat "$work/ro.out" >&2; fail "the read-only error does not name the path and EROFS"; }
say "ok: read-only: $(grep -o "cannot write [^:]*: Read-only file system (EROFS)" "$work/ro.out" | head -1 | sed "s|$disk|<tmpfs>|")"
umount "$disk"
say "all checks passed"
