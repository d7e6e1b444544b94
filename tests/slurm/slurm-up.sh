#!/usr/bin/env bash
# slurm-up.sh STATE_DIR
#
# Start a private one-node SLURM cluster (slurmctld + slurmd) plus its own
# munged, everything kept under STATE_DIR (config, key, sockets, state,
# spool, logs, PID files).  Idempotent: if the cluster recorded in
# STATE_DIR is already up and answering, nothing is restarted.
#
# On success (exit 0):
#   stdout: `export SLURM_CONF=STATE_DIR/slurm.conf SLIMSWEEP_SLURM_STATE=STATE_DIR`
#           (eval it); the same line is in STATE_DIR/env.sh (source it).
#
# STATE_DIR must be new/empty or a dir this script used before (it holds a
# .slimsweep-slurm-state marker): each fresh start recreates its ctld/,
# spool/, run/, tmp/ subdirs and jobcomp.txt (job ids restart at 1).  At most
# 60 characters (unix socket path limit).
#   stderr: progress messages.
# On failure: one line "slurm-up: ..." on stderr, and
#   exit 77  prerequisites missing (packages/commands absent, not root, ...)
#   exit 1   SLURM/munge could not be started (includes the daemon log tail)
#   exit 2   usage error
#
# Environment: SLURM_UP_TIMEOUT (seconds, default 30) for the whole start;
#   SLURM_UP_DEBUG (e.g. debug2) sets SlurmctldDebug/SlurmdDebug (default info).
#
# Needs root (slurmd must be root; munged is run as user munge).  No systemd;
# works without a TTY and with stdin closed.  Stop with slurm-down.sh.
set -euo pipefail
set +m  # no job control: `setsid cmd &` must not fork, so $! is the daemon

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { echo "slurm-up: $*" >&2; }
fail() { local rc=$1; shift; echo "slurm-up: $*" >&2; exit "$rc"; }

[[ $# -eq 1 && -n $1 ]] || fail 2 "usage: slurm-up.sh STATE_DIR"

timeout_s=${SLURM_UP_TIMEOUT:-30}

# ---------------------------------------------------------------- prerequisites
[[ $(id -u) -eq 0 ]] || fail 77 "must run as root (slurmd needs root)"
missing=()
for c in slurmctld slurmd munged munge unmunge sinfo scontrol squeue setpriv setsid flock nproc; do
  command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
((${#missing[@]} == 0)) ||
  fail 77 "missing commands: ${missing[*]} (apt-get install slurmctld slurmd slurm-client munge)"
id munge >/dev/null 2>&1 || fail 77 "user 'munge' does not exist (install the munge package)"

mkdir -p "$1" || fail 1 "cannot create state dir $1"
STATE=$(cd "$1" && pwd -P)
# This script deletes and rewrites subdirectories of STATE_DIR, so only use a
# dir that is empty or was set up by it before (marker file).
marker=$STATE/.slimsweep-slurm-state
if [[ ! -e $marker ]]; then
  [[ -z $(ls -A "$STATE") ]] ||
    fail 1 "refusing to use non-empty $STATE: not a slurm-up.sh state dir (no $marker)"
  echo "state dir of tests/slurm/slurm-up.sh" >"$marker"
fi
conf=$STATE/slurm.conf
mdir=$STATE/munge
sock=$mdir/munge.socket.2
piddir=$STATE/pids
logdir=$STATE/log
export SLURM_CONF=$conf

# Unix socket paths are limited to 107 bytes; slurmd's step sockets live in
# the spool dir and are longer than the munge socket path.
((${#STATE} <= 60)) || fail 1 "state dir path too long for unix sockets (${#STATE} > 60 chars): $STATE"

# One slurm-up/slurm-down at a time per state dir.  fd 9 is closed for the
# daemons (9>&-) so they do not inherit the lock.
exec 9>"$STATE/.lock"
flock -w 60 9 || fail 1 "could not lock $STATE/.lock"

# --------------------------------------------------------------- helpers
# alive NAME: the PID recorded for NAME is running (not a zombie) and is NAME
# (or still the setsid/setpriv launcher about to exec NAME).
alive() {
  local f=$piddir/$1.pid pid st comm
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  # right after `setsid setpriv munged` the PID may not have exec'd the daemon yet
  [[ $comm == "$1" || $comm == setsid || $comm == setpriv ]]
}

node_state() { timeout 5 sinfo -h -N -n localhost -o %T 2>/dev/null | head -n1 || true; }

munge_ok() { munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1; }

log_tail() { # one line: last lines of a log joined with " | "
  [[ -r $1 ]] || { echo "(no log $1)"; return; }
  tail -n "${2:-5}" "$1" | tr -s '\n\t' '  ' | sed 's/  */ /g; s/^ //' | cut -c1-600
}

emit_env() {
  printf 'export SLURM_CONF=%q SLIMSWEEP_SLURM_STATE=%q\n' "$conf" "$STATE" >"$STATE/env.sh"
  cat "$STATE/env.sh"
}

# Is the port in use by any TCP socket (v4 or v6, any state)?
port_used() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v h="$hex" 'NR>1 { split($2, a, ":"); if (a[length(a)] == h) { f=1; exit } } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# ------------------------------------------------- already up? (idempotency)
if alive munged && alive slurmctld && alive slurmd && [[ -f $conf ]]; then
  st=$(node_state)
  if [[ $st =~ ^(idle|mixed|allocated|completing)$ ]]; then
    say "already up ($STATE, node $st)"
    emit_env
    exit 0
  fi
  say "recorded daemons alive but node state is '${st:-?}': restarting"
fi
# Anything half-alive from an earlier run: stop it (recorded PIDs only).
if compgen -G "$piddir/*.pid" >/dev/null; then
  SLURM_DOWN_LOCKED=1 "$here/slurm-down.sh" "$STATE" >&2 ||
    fail 1 "could not stop leftover daemons recorded in $piddir"
fi

# ------------------------------------------------------------------- layout
deadline=$((SECONDS + timeout_s))
chmod a+x "$STATE"   # munged runs as user munge and must reach $mdir
# fresh controller/slurmd state each start (job ids restart at 1, so the
# job-completion log is restarted too)
rm -rf "$STATE/ctld" "$STATE/spool" "$STATE/run" "$STATE/tmp"
rm -f "$STATE/jobcomp.txt"
mkdir -p "$mdir" "$piddir" "$logdir" "$STATE/ctld" "$STATE/spool" "$STATE/run" "$STATE/tmp"
chmod 1777 "$STATE/tmp"
for f in "$logdir"/*.log "$logdir"/*.out "$mdir/munged.log"; do # keep one old copy
  if [[ -f $f ]]; then mv -f "$f" "$f.prev"; fi
done
chown munge:munge "$mdir"
chmod 0755 "$mdir"
if [[ ! -s $mdir/munge.key ]]; then
  umask 077
  dd if=/dev/urandom of="$mdir/munge.key" bs=1024 count=1 status=none
  umask 022
fi
chown munge:munge "$mdir/munge.key"
chmod 0400 "$mdir/munge.key"
setpriv --reuid=munge --regid=munge --init-groups test -r "$mdir/munge.key" ||
  fail 1 "user munge cannot read $mdir/munge.key (a parent of $STATE not world-searchable?)"

# --------------------------------------------------------------- slurm.conf
ncpu=$(nproc)
mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)
[[ $mem =~ ^[0-9]+$ ]] || fail 1 "could not read RealMemory from 'slurmd -C'"

# Two free adjacent ports below the ephemeral range, starting at a point
# derived from the state dir so parallel clusters rarely collide.
base=$((20000 + ($(printf '%s' "$STATE" | cksum | cut -d' ' -f1) % 4000) * 2))
ctld_port=
for ((i = 0; i < 400; i++)); do
  p=$((base + 2 * i))
  ((p + 1 < 32768)) || p=$((20000 + (p - 20000) % 12000))
  if ! port_used "$p" && ! port_used $((p + 1)); then ctld_port=$p; break; fi
done
[[ -n $ctld_port ]] || fail 1 "no free TCP port pair found"
slurmd_port=$((ctld_port + 1))

cat >"$conf" <<EOF
# generated by tests/slurm/slurm-up.sh -- private test cluster, do not edit
ClusterName=slimsweep
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
# pmix puts spmix_appdir_<uid>_<job>.<step> in TmpFS: private, so clusters
# running side by side (same job ids) do not collide in /tmp
TmpFS=$STATE/tmp
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$logdir/slurmctld.log
SlurmdLogFile=$logdir/slurmd.log
SlurmctldDebug=${SLURM_UP_DEBUG:-info}
SlurmdDebug=${SLURM_UP_DEBUG:-info}
ReturnToService=2
MailProg=/bin/true
ProctrackType=proctrack/pgid
TaskPlugin=task/none
MpiDefault=pmix
SchedulerType=sched/backfill
# batch jobs are otherwise scheduled up to 3 s after submission
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/jobcomp.txt
# keep finished jobs visible to scontrol for 5 min; short kill grace for tests
MinJobAge=300
KillWait=5
InactiveLimit=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$ncpu RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

# ---------------------------------------------------------------- start
# If the start fails half-way, stop whatever this run started.
started=0
on_exit() {
  local rc=$?
  if ((rc != 0 && started)); then
    SLURM_DOWN_LOCKED=1 SLURM_DOWN_KEEP_JOBS=1 "$here/slurm-down.sh" "$STATE" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap on_exit EXIT

# start NAME LOG CMD...: detached (own session, stdin /dev/null, no lock fd)
start() {
  local name=$1 log=$2; shift 2
  started=1
  setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
  echo $! >"$piddir/$name.pid"
}

# check_alive NAME LOG: fail if the recorded daemon is gone
check_alive() {
  alive "$1" || fail 1 "$1 exited during startup (log $2): $(log_tail "$2")"
}

wait_for() { # wait_for WHAT NAME LOG CMD...: poll CMD until true
  local what=$1 name=$2 log=$3; shift 3
  until "$@"; do
    check_alive "$name" "$log"
    ((SECONDS < deadline)) || fail 1 "timeout (${timeout_s}s) waiting for $what (log $log): $(log_tail "$log")"
    sleep 0.2
  done
}

say "starting munged"
rm -f "$sock" "$sock.lock"
mlog=$mdir/munged.log
start munged "$mlog" setpriv --reuid=munge --regid=munge --init-groups \
  munged -F --socket="$sock" --key-file="$mdir/munge.key" --pid-file="$mdir/munged.pid" \
  --seed-file="$mdir/munged.seed" --num-threads=4   # -F: logs go to stderr
wait_for "munged" munged "$mlog" munge_ok

say "starting slurmctld (port $ctld_port)"
clog=$logdir/slurmctld.out # stderr of -D: also has fatal config errors
start slurmctld "$clog" slurmctld -D -f "$conf"
ctld_up() { [[ $(timeout 5 scontrol ping 2>/dev/null) == *"is UP"* ]]; }
wait_for "slurmctld" slurmctld "$clog" ctld_up

say "starting slurmd (port $slurmd_port)"
dlog=$logdir/slurmd.out
start slurmd "$dlog" slurmd -D -N localhost -f "$conf"
node_idle() { [[ $(node_state) == idle ]]; }
until node_idle; do
  check_alive slurmctld "$clog"
  check_alive slurmd "$dlog"
  ((SECONDS < deadline)) ||
    fail 1 "timeout (${timeout_s}s) waiting for node idle (state '$(node_state)'; slurmd log: $(log_tail "$dlog" 3); slurmctld log: $(log_tail "$clog" 3))"
  sleep 0.2
done

say "up: $STATE (ctld port $ctld_port, $ncpu CPUs, ${mem} MB) in ${SECONDS}s"
emit_env
