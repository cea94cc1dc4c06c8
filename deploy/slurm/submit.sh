#!/usr/bin/env bash
# Submits a split run to Slurm: an M-task array of shards, then the merge, which starts only if
# every task succeeded. Prints the two job ids. Extra sbatch options (partition, account, time,
# CPUs) go in $CJE_SBATCH_OPTIONS, e.g. CJE_SBATCH_OPTIONS="--partition=cpu --time=2-00:00:00".
# Usage: deploy/slurm/submit.sh M N RUN_DIR [CONFIG]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
m=${1:?usage: submit.sh M N RUN_DIR [CONFIG]}
n=${2:?usage: submit.sh M N RUN_DIR [CONFIG]}
dir=${3:?usage: submit.sh M N RUN_DIR [CONFIG]}
config=${4:-}
[ "$m" -ge 1 ] 2>/dev/null || { echo "submit.sh: M must be a whole number >= 1 (got $m)" >&2; exit 1; }
# shellcheck disable=SC2086 # the options are words on purpose
array=$(sbatch --parsable ${CJE_SBATCH_OPTIONS:-} --array=0-$((m - 1)) "$here/cje-prep-shard.sbatch" "$n" "$dir" ${config:+"$config"})
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${CJE_SBATCH_OPTIONS:-} --dependency=afterok:"$array" --kill-on-invalid-dep=yes \
    "$here/cje-prep-merge.sbatch" "$dir" ${config:+"$config"})
echo "shards: job $array (array 0-$((m - 1))); merge: job ${merge%%;*}"
