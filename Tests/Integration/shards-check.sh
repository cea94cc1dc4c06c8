#!/usr/bin/env bash
# Integration test: a run split into 3 shards and merged is byte for byte the unsplit run.
#   1. three shard processes at once (--shard, a Slurm array's and an Indexed Job's environment),
#      then merge; merging again changes nothing
#   2. the paired and stratified label designs with probes: each shard labels its own rows, the
#      merge works no item and equals the unsplit run
#   3. the same with one shard SIGKILLed mid-way: the merge names it, it runs again, then merges
#   4. bad input: --shard 3/3, -1/2, 0/0, another M, a missing shard, another config, a plain run
#      in a split directory: each an error naming the problem, nothing written
#   5. a real Slurm: Tests/Integration/slurm-cluster.sh starts a one-node cluster, and
#      deploy/slurm/submit.sh runs the shards as a 3-task array and the merge after them
# Usage: Tests/Integration/shards-check.sh [path/to/cje-prep]    (CJE_MODEL must be set)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
check_begin shards-check "${1:-}"

check_workdir
cluster_started=""
on_exit '[ -n "$cluster_started" ] && "$here/slurm-cluster.sh" stop "$work/slurm"'
on_exit 'jobs -p | xargs -r kill -9 2>/dev/null'

{
    printf 'n: 12\nseed: 5\n'
    three_policies 12
    echo "engine: {threads: 1}"
} >"$work/config.yaml"
# The engine's shape changes no number (nor the fingerprint): the unsplit run uses both cores.
sed 's/threads: 1/threads: 2/' "$work/config.yaml" >"$work/config-2-threads.yaml"
run() { "$tool" "$@" --config "$work/config.yaml"; }
# A shard in the background, as its own process ($! is cje-prep's pid): dir K/M log [env...]
shard() {
    local dir=$1 shard=$2 log=$3
    shift 3
    env "$@" "$tool" run --dir "$dir" ${shard:+--shard "$shard"} --config "$work/config.yaml" >"$log" 2>&1 &
}

# The data files a run writes (not logs, manifests or journals): the same list and bytes.
same_data() { # dir-a dir-b what
    local a b
    a=$(cd "$1" && find data phase2 cje -type f | sort | xargs sha256sum)
    b=$(cd "$2" && find data phase2 cje -type f | sort | xargs sha256sum)
    [ "$(echo "$a" | wc -l)" -ge 15 ] || fail "$3: only $(echo "$a" | wc -l) data files in $1"
    [ "$a" = "$b" ] || { diff <(echo "$a") <(echo "$b") >&2; fail "$3: the files differ from the unsplit run's"; }
    say "ok: $3: $(echo "$a" | wc -l) data files byte-identical to the unsplit run's"
}

# Runs a command that must fail, with `message` in its error, and leave `path` absent.
refused() { # message path command...
    local message=$1 path=$2
    shift 2
    if "$@" >"$work/refused.out" 2>&1; then fail "'$*' succeeded; expected: $message"; fi
    grep -qF -- "$message" "$work/refused.out" || { cat "$work/refused.out" >&2; fail "'$*' did not say: $message"; }
    [ -z "$path" ] || [ ! -e "$path" ] || fail "'$*' wrote $path"
    say "ok: refused: $message"
}

say "unsplit reference run"
start=$(date +%s)
"$tool" run --dir "$work/plain" --config "$work/config-2-threads.yaml" >"$work/plain.out" 2>&1 ||
    { cat "$work/plain.out" >&2; fail "the unsplit run failed"; }
say "  $(($(date +%s) - start)) s"

say "three shards at once (by --shard, a Slurm array's variables, an Indexed Job's), then merge"
start=$(date +%s)
shard "$work/split" 0/3 "$work/s0.out"
p0=$!
shard "$work/split" "" "$work/s1.out" SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3
p1=$!
shard "$work/split" "" "$work/s2.out" JOB_COMPLETION_INDEX=2 CJE_SHARDS=3
p2=$!
for p in $p0 $p1 $p2; do wait $p || { cat "$work"/s?.out >&2; fail "a shard failed"; }; done
grep -q "shard 1/3 (from SLURM_ARRAY_TASK_ID=1 of 3 tasks)" "$work/s1.out" || fail "shard 1 did not come from Slurm's variables"
grep -q "shard 2/3 (from JOB_COMPLETION_INDEX=2 of 3)" "$work/s2.out" || fail "shard 2 did not come from JOB_COMPLETION_INDEX"
shards_time=$(($(date +%s) - start))
start=$(date +%s)
run merge --dir "$work/split" >"$work/merge.out" 2>&1 || { cat "$work/merge.out" >&2; fail "the merge failed"; }
say "  shards $shards_time s, merge $(($(date +%s) - start)) s"
same_data "$work/plain" "$work/split" "3 shards + merge"
run merge --dir "$work/split" >"$work/merge2.out" 2>&1 || fail "the second merge failed"
same_data "$work/plain" "$work/split" "merged twice"
# (captured first: stdout is line-buffered, so `| grep -q` would end status with SIGPIPE mid-way)
status_out=$("$tool" status --dir "$work/split") || fail "status failed"
grep -q "finished" <<<"$status_out" || fail "status shows no finished shard"

say "every label design with probes: the shards label their own rows, the merge labels nothing"
for design in "design: paired, fraction: 0.5" "design: stratified, strata: [{below: 0.5, rate: 0.6}, {rate: 0.3}]"; do
    name=${design%%,*}
    name=${name#design: }
    sed "s/threads: 1}/threads: 2}\noracle: {$design, probes: 0.25}/" "$work/config.yaml" >"$work/$name.yaml"
    "$tool" run --dir "$work/$name-plain" --config "$work/$name.yaml" >"$work/$name-plain.out" 2>&1 ||
        { cat "$work/$name-plain.out" >&2; fail "the unsplit $name run failed"; }
    for k in 0 1 2; do
        "$tool" run --dir "$work/$name-split" --shard $k/3 --config "$work/$name.yaml" >"$work/$name-s$k.out" 2>&1 ||
            { cat "$work/$name-s$k.out" >&2; fail "shard $k of the $name run failed"; }
        grep -q "^oracle_calibration: " "$work/$name-s$k.out" || fail "shard $k of the $name run labelled nothing"
    done
    "$tool" merge --dir "$work/$name-split" --config "$work/$name.yaml" >"$work/$name-merge.out" 2>&1 ||
        { cat "$work/$name-merge.out" >&2; fail "the $name merge failed"; }
    # The merge's own stage reports: every item taken from the shards' journals, none worked.
    worked=$(python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(sum(r["doneNow"] for r in m["stages"].values()))' "$work/$name-split/manifest.json")
    [ "$worked" = 0 ] || fail "the $name merge worked $worked items"
    ! grep -q "working them here" "$work/$name-merge.out" || fail "the $name merge labelled rows"
    same_data "$work/$name-plain" "$work/$name-split" "$name design, 3 shards labelling their own rows + merge (0 items worked there)"
done

say "one shard SIGKILLed mid-way, run again, then merge"
shard "$work/killed" 0/3 /dev/null
p0=$!
shard "$work/killed" 1/3 /dev/null
p1=$!
shard "$work/killed" 2/3 /dev/null
p2=$!
journal="$work/killed/shards/1-of-3/state/generate.journal.jsonl"
for _ in $(seq 1 600); do [ -s "$journal" ] && break; sleep 0.1; done
[ -s "$journal" ] || fail "shard 1 journaled nothing in 60 s"
kill -9 $p1
{ wait $p1; } 2>/dev/null || true
wait $p0 || fail "shard 0 failed"
wait $p2 || fail "shard 2 failed"
refused "shard 1/3 has not finished" "$work/killed/data/all_responses.jsonl" run merge --dir "$work/killed"
run run --dir "$work/killed" --shard 1/3 >/dev/null 2>&1 || fail "the killed shard did not resume"
run merge --dir "$work/killed" >/dev/null 2>&1 || fail "the merge after the resumed shard failed"
same_data "$work/plain" "$work/killed" "a shard killed, resumed, merged"

say "bad input"
refused "shard 3 does not exist in a run of 3 shards" "$work/bad" run run --dir "$work/bad" --shard 3/3
refused "Missing value for '--shard" "$work/bad" run run --dir "$work/bad" --shard -1/2
refused "shard -1 does not exist in a run of 2 shards" "$work/bad" run run --dir "$work/bad" --shard=-1/2
refused "the shard count must be at least 1" "$work/bad" run run --dir "$work/bad" --shard 0/0
refused "its run is split into 3 shards, not 2" "$work/split/shards/0-of-2" run run --dir "$work/split" --shard 0/2
refused "it holds a run split into 3 shards" "" run run --dir "$work/split"
mkdir -p "$work/partial"
run run --dir "$work/partial" --shard 0/3 >/dev/null 2>&1 || fail "shard 0 of partial failed"
refused "shard 1/3 has not started" "$work/partial/manifest.json" run merge --dir "$work/partial"
refused "config 'seed' changed" "" "$tool" merge --dir "$work/split" --config "$work/config.yaml" --seed 6

say "a real Slurm: the repo's batch scripts as a 3-task array and a dependent merge"
"$here/slurm-cluster.sh" start "$work/slurm"
cluster_started=1
export SLURM_CONF="$work/slurm/slurm.conf"
export CJE_PREP="$tool"
start=$(date +%s)
submitted=$(cd "$work" && CJE_SBATCH_OPTIONS="--cpus-per-task=1" "$repo/deploy/slurm/submit.sh" 3 12 "$work/slurm-run" "$work/config.yaml")
say "  $submitted"
array=$(echo "$submitted" | sed -n 's/^shards: job \([0-9]*\).*/\1/p')
merge=$(echo "$submitted" | sed -n 's/.*merge: job \([0-9]*\)$/\1/p')
[ -n "$array" ] && [ -n "$merge" ] || fail "submit.sh printed no job ids"
for _ in $(seq 1 1800); do
    [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] && break
    sleep 1
done
[ -z "$(squeue -h -j "$array,$merge")" ] || fail "the Slurm jobs did not finish in 30 minutes"
for job in $(seq 0 2 | sed "s/^/${array}_/") "$merge"; do
    state=$(scontrol show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1)
    code=$(scontrol show job "$job" 2>/dev/null | sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' | head -1)
    [ "$state" = COMPLETED ] && [ "$code" = 0:0 ] || {
        cat "$work"/cje-prep-*.out >&2 || true
        fail "Slurm job $job ended $state with exit code $code"
    }
done
say "  array and merge COMPLETED in $(($(date +%s) - start)) s"
same_data "$work/plain" "$work/slurm-run" "Slurm array + afterok merge"
say "all checks passed"
