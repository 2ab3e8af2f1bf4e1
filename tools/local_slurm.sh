#!/usr/bin/env bash
# A single-node SLURM cluster on loopback, from Debian's packages, for tests/test_slurm.py and for
# trying profiles/slurm/ on one machine. Everything it writes lives under one state directory
# ($VIDREWARD_SLURM_DIR, default /tmp/vidreward-slurm); nothing under /etc is touched.
#
#   tools/local_slurm.sh install   apt-get slurmctld slurmd slurmdbd slurm-client munge
#                                  mariadb-server when missing (needs root or sudo; no-op if present)
#   tools/local_slurm.sh start     munge key + munged, MariaDB (accounting storage), slurmdbd,
#                                  slurmctld, slurmd; one node "localhost" on 127.0.0.1 with this
#                                  machine's CPU count and memory (from `slurmd -C`); idempotent
#   tools/local_slurm.sh stop      cancel jobs, `scontrol shutdown`, then slurmdbd, MariaDB and
#                                  munged, each waited for; idempotent
#   tools/local_slurm.sh status    each daemon and the node state; exit 0 only when all run
#   tools/local_slurm.sh env       the line to paste: export SLURM_CONF=<state>/etc/slurm.conf
#
# The SLURM client commands (sbatch, squeue, sacct, and so Snakemake's slurm executor) find this
# cluster through SLURM_CONF. Ports (loopback only): slurmctld $PORT_BASE, slurmd +1, slurmdbd +2,
# MariaDB +3, with VIDREWARD_SLURM_PORT_BASE defaulting to 16817 (not the stock 6817, so a real
# SLURM on the same machine is left alone). The daemons run as the calling user (root here).
set -euo pipefail

STATE=${VIDREWARD_SLURM_DIR:-/tmp/vidreward-slurm}
PORT_BASE=${VIDREWARD_SLURM_PORT_BASE:-16817}
CTLD_PORT=$PORT_BASE
SLURMD_PORT=$((PORT_BASE + 1))
DBD_PORT=$((PORT_BASE + 2))
DB_PORT=$((PORT_BASE + 3))
CLUSTER=vidreward
ACCOUNT=vidreward
NODE=localhost
PACKAGES=(slurmctld slurmd slurmdbd slurm-client munge mariadb-server)
ME=$(id -un)
START_TIMEOUT=${VIDREWARD_SLURM_START_TIMEOUT:-60}

export SLURM_CONF=$STATE/etc/slurm.conf
MUNGE_SOCKET=$STATE/munge/munge.socket
DB_SOCKET=$STATE/mariadb/mysqld.sock

say() { echo "local_slurm: $*"; }
die() { echo "local_slurm: $*" >&2; exit 1; }

# ----------------------------------------------------------------------------------------- helpers
find_cmd() {  # first of the given names on PATH (or in /usr/sbin), printed as a path
    local name
    for name in "$@"; do
        if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
        if [[ -x /usr/sbin/$name ]]; then echo "/usr/sbin/$name"; return 0; fi
    done
    return 1
}

missing_tools() {
    local tool missing=()
    for tool in slurmctld slurmd slurmdbd sbatch squeue sacct sacctmgr scontrol sinfo munged munge; do
        find_cmd "$tool" >/dev/null || missing+=("$tool")
    done
    find_cmd mariadbd mysqld >/dev/null || missing+=(mariadbd)
    find_cmd mariadb-install-db mysql_install_db >/dev/null || missing+=(mariadb-install-db)
    find_cmd mariadb mysql >/dev/null || missing+=(mariadb)
    echo "${missing[*]}"
}

pid_alive() {  # pid file -> 0 when its process runs
    [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_for() {  # seconds description command... -> 0 once the command succeeds
    local limit=$1 what=$2; shift 2
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            echo "local_slurm: timed out after ${limit}s waiting for $what" >&2
            return 1
        fi
        sleep 0.5
    done
}

stop_pid() {  # pid file, name: SIGTERM, wait up to 30 s, SIGKILL only if it will not go
    local pidfile=$1 name=$2 pid
    pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            echo "local_slurm: $name (pid $pid) ignored SIGTERM for 30 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.3
    done
    rm -f "$pidfile"
    say "stopped $name"
}

db() {  # SQL as the database superuser (unix-socket authentication as the calling OS user)
    "$(find_cmd mariadb mysql)" --no-defaults --socket="$DB_SOCKET" -u "$ME" -N -B -e "$1"
}

# ----------------------------------------------------------------------------------------- install
cmd_install() {
    local missing
    missing=$(missing_tools)
    if [[ -z $missing ]]; then
        say "installed: $(slurmctld -V 2>/dev/null), $(munged -V 2>&1 | head -n1), $("$(find_cmd mariadbd mysqld)" --version 2>/dev/null | awk '{print $1, $2, $3}')"
        return 0
    fi
    say "missing: $missing"
    command -v apt-get >/dev/null 2>&1 ||
        die "no apt-get on this machine: install ${PACKAGES[*]} yourself (the SLURM test skips until then)"
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install ${PACKAGES[*]}"
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # the packages' own services are not started (no systemd in containers); `start` runs its own
    $sudo apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
    missing=$(missing_tools)
    [[ -z $missing ]] || die "still missing after apt-get: $missing"
    say "installed ${PACKAGES[*]} ($(slurmctld -V))"
}

# ----------------------------------------------------------------------------------------- start
write_configs() {
    mkdir -p "$STATE"/{etc,munge,mariadb,log,run,ctld,slurmd}
    chmod 700 "$STATE/munge"
    local hw cpus mem boards sockets cores threads
    hw=$(slurmd -C | head -n1)
    field() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<<"$hw"; }
    cpus=$(field CPUs); boards=$(field Boards); sockets=$(field SocketsPerBoard)
    cores=$(field CoresPerSocket); threads=$(field ThreadsPerCore); mem=$(field RealMemory)
    [[ -n $cpus && -n $mem ]] || die "could not read CPUs/RealMemory from 'slurmd -C': $hw"
    [[ -s $STATE/etc/db_password ]] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$STATE/etc/db_password")

    cat >"$SLURM_CONF" <<EOF
# Written by tools/local_slurm.sh: one node on loopback; state under $STATE.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=$ME
SlurmdUser=$ME
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# no cgroups needed (containers often have none writable)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=10
# accounting through slurmdbd: sacct lists finished jobs from it (with the rule in the comment)
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# for slurmdbd connections the MUNGE socket is given here, not in AuthInfo
AccountingStoragePass=$MUNGE_SOCKET
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# CPUs and memory are consumable: jobs share the node as their requests allow
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=1000
ReturnToService=2
MinJobAge=300
InactiveLimit=0
KillWait=10
SlurmctldTimeout=60
SlurmdTimeout=60
NodeName=$NODE NodeHostname=$NODE NodeAddr=127.0.0.1 CPUs=$cpus Boards=${boards:-1} SocketsPerBoard=${sockets:-1} CoresPerSocket=${cores:-$cpus} ThreadsPerCore=${threads:-1} RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

    (umask 077; cat >"$STATE/etc/slurmdbd.conf" <<EOF
# Written by tools/local_slurm.sh
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdHost=$NODE
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=$ME
PidFile=$STATE/run/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$(cat "$STATE/etc/db_password")
StorageLoc=slurm_acct_db
EOF
    )
}

start_munge() {
    if pid_alive "$STATE/run/munged.pid"; then return 0; fi
    if [[ ! -s $STATE/munge/munge.key ]]; then
        if find_cmd mungekey >/dev/null; then
            mungekey --create --keyfile="$STATE/munge/munge.key" --force
        else
            (umask 077; dd if=/dev/urandom bs=1 count=1024 of="$STATE/munge/munge.key" 2>/dev/null)
        fi
        chmod 600 "$STATE/munge/munge.key"
    fi
    # --force: the state may sit under a world-writable (sticky) /tmp, which munged otherwise refuses
    munged --force --socket="$MUNGE_SOCKET" --key-file="$STATE/munge/munge.key" \
        --log-file="$STATE/log/munged.log" --pid-file="$STATE/run/munged.pid" \
        --seed-file="$STATE/munge/munged.seed"
    wait_for 20 "munged" bash -c "munge -n -S '$MUNGE_SOCKET' | unmunge -S '$MUNGE_SOCKET'"
    say "munged running"
}

start_mariadb() {
    if pid_alive "$STATE/run/mariadb.pid"; then return 0; fi
    local datadir=$STATE/mariadb/data
    if [[ ! -d $datadir/mysql ]]; then
        "$(find_cmd mariadb-install-db mysql_install_db)" --no-defaults --datadir="$datadir" \
            --user="$ME" --auth-root-authentication-method=socket --skip-test-db \
            >"$STATE/log/mariadb-install.log" 2>&1 ||
            die "mariadb-install-db failed: see $STATE/log/mariadb-install.log"
    fi
    "$(find_cmd mariadbd mysqld)" --no-defaults --datadir="$datadir" --user="$ME" \
        --socket="$DB_SOCKET" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --pid-file="$STATE/run/mariadb.pid" --log-error="$STATE/log/mariadb.log" \
        --innodb-buffer-pool-size=128M --innodb-log-file-size=64M --innodb-lock-wait-timeout=900 \
        --skip-name-resolve \
        >/dev/null 2>&1 &
    wait_for "$START_TIMEOUT" "MariaDB" db "SELECT 1" ||
        die "MariaDB did not start: see $STATE/log/mariadb.log"
    local pw
    pw=$(cat "$STATE/etc/db_password")
    db "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pw';
        ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pw';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
    say "MariaDB running (127.0.0.1:$DB_PORT)"
}

start_slurmdbd() {
    if pid_alive "$STATE/run/slurmdbd.pid"; then return 0; fi
    slurmdbd
    wait_for "$START_TIMEOUT" "slurmdbd" sacctmgr -n list cluster ||
        die "slurmdbd did not answer: see $STATE/log/slurmdbd.log"
    if [[ -z $(sacctmgr -n -P list cluster "$CLUSTER" format=cluster) ]]; then
        sacctmgr -i add cluster "$CLUSTER" >/dev/null
    fi
    say "slurmdbd running (127.0.0.1:$DBD_PORT)"
}

add_account() {  # an account and the calling user in it, so jobs carry an association
    if [[ -z $(sacctmgr -n -P list account "$ACCOUNT" format=account) ]]; then
        sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" \
            description="vidreward local cluster" organization=vidreward >/dev/null
    fi
    if [[ -z $(sacctmgr -n -P list user "$ME" format=user) ]]; then
        sacctmgr -i add user "$ME" account="$ACCOUNT" defaultaccount="$ACCOUNT" \
            cluster="$CLUSTER" >/dev/null
    fi
}

node_ready() {
    local state
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null) || return 1
    [[ $state == idle* || $state == mixed* || $state == allocated* ]]
}

# Inside a job, snakemake-executor-plugin-slurm-jobstep starts the rule with `srun` and drops every
# SLURM_* variable (SLURM_CONF too) from srun's environment; srun then reads the configuration
# where a configless compute node keeps it, /run/slurm/conf/slurm.conf (slurmd links it there in
# configless mode). This points that link at this cluster's configuration, and stop removes it.
RUN_CONF=${VIDREWARD_SLURM_RUN_CONF:-/run/slurm/conf}
link_run_conf() {
    local current
    if [[ -L $RUN_CONF ]]; then
        current=$(readlink "$RUN_CONF")
        [[ $current == "$STATE/etc" ]] && return 0
        if [[ -f $current/slurm.conf && $current == */etc ]] && grep -q "tools/local_slurm.sh" "$current/slurm.conf" &&
            [[ -s ${current%/etc}/run/slurmd.pid ]] && kill -0 "$(cat "${current%/etc}/run/slurmd.pid")" 2>/dev/null; then
            die "another local cluster is running (${current%/etc}); stop it first: VIDREWARD_SLURM_DIR=${current%/etc} $0 stop"
        fi
        rm -f "$RUN_CONF"
    elif [[ -e $RUN_CONF ]]; then
        die "$RUN_CONF exists and is not this script's link (a configless SLURM node?); not touching it"
    fi
    mkdir -p "$(dirname "$RUN_CONF")" 2>/dev/null && ln -s "$STATE/etc" "$RUN_CONF" 2>/dev/null ||
        die "cannot create $RUN_CONF (needs root): srun inside jobs would not find the configuration"
}

unlink_run_conf() {
    if [[ -L $RUN_CONF && $(readlink "$RUN_CONF") == "$STATE/etc" ]]; then rm -f "$RUN_CONF"; fi
}

cmd_start() {
    [[ -z $(missing_tools) ]] || die "SLURM/munge/MariaDB not installed (missing: $(missing_tools)); run: $0 install"
    if cmd_status >/dev/null 2>&1; then
        say "already running (SLURM_CONF=$SLURM_CONF)"
        return 0
    fi
    write_configs
    link_run_conf
    start_munge
    start_mariadb
    start_slurmdbd
    add_account
    if ! pid_alive "$STATE/run/slurmctld.pid"; then
        slurmctld
        wait_for "$START_TIMEOUT" "slurmctld" scontrol ping ||
            die "slurmctld did not start: see $STATE/log/slurmctld.log"
        say "slurmctld running (127.0.0.1:$CTLD_PORT)"
    fi
    if ! pid_alive "$STATE/run/slurmd.pid"; then
        slurmd -N "$NODE"
    fi
    if ! wait_for "$START_TIMEOUT" "node $NODE to be idle" node_ready; then
        # a node left DOWN by an earlier unclean stop comes back once told to
        scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
        wait_for 20 "node $NODE to be idle" node_ready ||
            die "node $NODE is not idle ($(sinfo -h -n "$NODE" -o '%T %E')): see $STATE/log/slurmd.log"
    fi
    say "slurmd running: $(sinfo -h -N -n "$NODE" -o '%N %T cpus=%c mem=%mMB')"
    say "ready; export SLURM_CONF=$SLURM_CONF"
}

# ----------------------------------------------------------------------------------------- stop
cmd_stop() {
    local name running=()
    for name in slurmd slurmctld; do
        if pid_alive "$STATE/run/$name.pid"; then running+=("$name:$(cat "$STATE/run/$name.pid")"); fi
    done
    if [[ -f $SLURM_CONF ]] && pid_alive "$STATE/run/slurmctld.pid"; then
        local jobs
        jobs=$(squeue -h -o %i 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            wait_for 30 "jobs to end" bash -c '[[ -z $(squeue -h -o %i) ]]' || true
            say "cancelled jobs: $(echo $jobs)"
        fi
        # slurmctld tells slurmd to stop, saves its state and sends the last job records to slurmdbd
        scontrol shutdown >/dev/null 2>&1 || true
    fi
    local entry pid deadline
    for entry in "${running[@]}"; do
        name=${entry%%:*}; pid=${entry#*:}
        deadline=$((SECONDS + 30))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.3; done
        if kill -0 "$pid" 2>/dev/null; then
            stop_pid "$STATE/run/$name.pid" "$name"  # did not follow scontrol shutdown
        else
            rm -f "$STATE/run/$name.pid"; say "stopped $name"
        fi
    done
    stop_pid "$STATE/run/slurmdbd.pid" slurmdbd
    stop_pid "$STATE/run/mariadb.pid" MariaDB
    stop_pid "$STATE/run/munged.pid" munged
    unlink_run_conf
    say "stopped"
}

# ----------------------------------------------------------------------------------------- status
cmd_status() {
    local ok=0 name
    for name in munged mariadb slurmdbd slurmctld slurmd; do
        if pid_alive "$STATE/run/$name.pid"; then
            echo "$name: running (pid $(cat "$STATE/run/$name.pid"))"
        else
            echo "$name: not running"; ok=1
        fi
    done
    if ((ok == 0)); then
        if node_ready; then
            sinfo -h -N -n "$NODE" -o 'node %N: %T, cpus=%c, mem=%mMB'
        else
            echo "node $NODE: not ready"; ok=1
        fi
    fi
    return $ok
}

case ${1:-} in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) echo "export SLURM_CONF=$SLURM_CONF" ;;
    *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
