#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the integration test: Debian's slurm-wlm and
# munge (installed with apt-get when missing), run as root with SlurmUser/SlurmdUser root,
# proctrack/linuxproc and task/none (no cgroups needed), all state under DIR.
#   slurm-cluster.sh start DIR   writes DIR/slurm.conf, starts munged, slurmctld and slurmd, and
#                                waits until the node is idle; use SLURM_CONF=DIR/slurm.conf
#   slurm-cluster.sh stop DIR    stops the daemons it started
# A daemon that cannot start fails this script with the daemon's own log, never silently.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
CHECK_NAME=slurm-cluster
action=${1:?usage: slurm-cluster.sh start|stop DIR}
dir=${2:?usage: slurm-cluster.sh start|stop DIR}

stop() {
    for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munged.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    sleep 1
}

if [ "$action" = stop ]; then
    stop
    exit 0
fi
[ "$action" = start ] || { say "usage: slurm-cluster.sh start|stop DIR"; exit 2; }

need_packages slurmctld:slurm-wlm slurmd:slurm-wlm munged:munge
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/MemTotal/ { print int($2 / 1024) - 512 }' /proc/meminfo)

# munge: a key of our own and a socket under DIR, so nothing system-wide is touched.
[ -f "$dir/munge/munge.key" ] || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 600 "$dir/munge/munge.key"
socket="$dir/munge/munge.socket"
munged --force --key-file="$dir/munge/munge.key" --socket="$socket" --pid-file="$dir/munged.pid" \
    --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed" ||
    { cat "$dir/munged.log" >&2 2>/dev/null; say "munged did not start"; exit 1; }

cat >"$dir/slurm.conf" <<CONF
ClusterName=cjetest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=600
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=${CJE_SLURMCTLD_PORT:-16817}
SlurmdPort=${CJE_SLURMD_PORT:-16818}
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF" || { cat "$dir/slurmctld.log" >&2 2>/dev/null; say "slurmctld did not start"; stop; exit 1; }
slurmd -f "$SLURM_CONF" || { cat "$dir/slurmd.log" >&2 2>/dev/null; say "slurmd did not start"; stop; exit 1; }
for _ in $(seq 1 60); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
    case "$state" in idle | mix | alloc) say "node $host up ($cpus CPUs)"; exit 0 ;; esac
    sleep 1
done
say "the node did not become idle within 60 s (state: ${state:-none})"
cat "$dir/slurmctld.log" "$dir/slurmd.log" >&2 2>/dev/null || true
stop
exit 1
