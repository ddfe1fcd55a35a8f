# Sourced by scripts/test and bench/run-all: installing the real peers from Debian's packages
# (only what is missing), starting each with a private data dir under $WORK on a free loopback
# port, and stopping every one by the PID it was started with (never by name). The caller sets
# LOG_NAME, creates $WORK, and calls stop_peers on exit.
# shellcheck shell=bash

log() { printf '%s: %s\n' "$LOG_NAME" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}
banner() { printf '\n===== %s =====\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# Debian packages. One need_* function per peer; each installs only what is missing, so a
# prepared machine pays nothing and `apt-get update` runs at most once.

APT_UPDATED=

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo -n "$@"
    else
        die "not root and no sudo: cannot run $*"
    fi
}

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

need_packages() {
    local pkg missing=()
    for pkg in "$@"; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    log "installing missing Debian packages: ${missing[*]}"
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get -o DPkg::Lock::Timeout=600 update -q </dev/null
        APT_UPDATED=1
    fi
    # No stdin in CI: noninteractive, and stdin closed so nothing can wait for an answer.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
        install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# python3 picks free ports, curl polls readiness, ps tells a live peer from a dead one: all on
# the base image, but checking costs nothing.
need_tools() { need_packages python3 curl procps; }

need_postgres() {
    need_packages postgresql
    # Debian installs each major version side by side; take the newest.
    PG_BIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
    [ -x "$PG_BIN/initdb" ] || die "no initdb under /usr/lib/postgresql/*/bin"
}

need_chromium() { need_packages chromium chromium-driver; }

need_smtp_sink() { need_packages python3-aiosmtpd; }

# dovecot-core comes with dovecot-imapd. Its install may start the system Dovecot: where there
# is no init (containers) it does not, under systemd a failed start does not fail the install,
# and a system Dovecot on 143/993 never meets ours, which runs on free ports from its own config.
need_dovecot() { need_packages dovecot-imapd openssl; }

# slapd's install would build a directory of its own from debconf answers: told not to, it
# installs the binaries only (ours runs from scripts/ldap-server with a private config).
need_slapd() {
    if ! is_installed slapd; then
        echo "slapd slapd/no_configuration boolean true" | as_root debconf-set-selections
    fi
    need_packages slapd ldap-utils openssl
}

# freeradius brings freeradius-common (the dictionaries); scripts/radius-server probes with
# python3, so freeradius-utils is not needed.
need_freeradius() { need_packages freeradius; }

# Its install may start the system Alertmanager: where there is no init (containers) it does
# not, and a system one on 9093/9094 never meets ours, which each test starts on a free port
# with clustering off (tests/integration/am_rig.rs).
need_alertmanager() {
    need_packages prometheus-alertmanager
    AM_BIN=/usr/bin/prometheus-alertmanager
    [ -x "$AM_BIN" ] || die "prometheus-alertmanager is installed but $AM_BIN is not executable"
}

# nagios4-core (the daemon, no web UI: Apache comes with nagios4-cgi, not installed) depends on
# nagios4-common, which adds the nagios user and pulls in monitoring-plugins-basic and a mailx,
# hence an MTA: exim4-daemon-light. Their install may start the system Nagios (the sample
# config in /etc/nagios4) and Exim: where there is no init (containers) it does not, and a
# system Nagios never meets ours: each test runs its own in the foreground from a private
# nagios.cfg whose lock file, query socket and command file are in its temp dir
# (tests/integration/nagios.rs). curl is what contrib/nagios/opsdesk.cfg notifies with.
need_nagios() {
    need_packages nagios4-core curl
    NAGIOS_BIN=/usr/sbin/nagios4
    [ -x "$NAGIOS_BIN" ] || die "nagios4-core is installed but $NAGIOS_BIN is not executable"
}

# ---------------------------------------------------------------------------------------------
# Process bookkeeping. Every peer lives under $WORK; on exit each is stopped by the PID we
# recorded (never by name: other processes on the machine may share it), then $WORK goes.

WORK=
PIDS=()        # peers started with start_bg, each the leader of its own session
PG_DATA=       # set once a PostgreSQL cluster exists, so cleanup can stop it
PG_AS=()       # prefix that runs PostgreSQL tools as the right user
CURRENT_STEP=

# True while PID runs (a zombie is not running: our children stay zombies until reaped).
alive() {
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $state != Z* ]]
}

# Stop one peer: TERM to its whole session (chromedriver's Chromium children go too), up to
# 5 s of grace, then KILL.
stop_pid() {
    local pid=$1 i
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        alive "$pid" || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

stop_postgres() {
    [ -f "$PG_DATA/postmaster.pid" ] || return 0
    local pid
    pid=$(head -n 1 "$PG_DATA/postmaster.pid")
    pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null ||
        kill -KILL "$pid" 2>/dev/null || true
}

# Stops every peer this script started, newest first, then removes $WORK.
stop_peers() {
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${PIDS[i]}"
    done
    [ -n "$PG_DATA" ] && stop_postgres
    [ -n "$WORK" ] && rm -rf "$WORK"
}

# start_bg LOGFILE CMD...: run CMD in a session of its own so that stopping it also stops
# whatever it spawned; its PID is appended to PIDS and left in LAST_PID.
start_bg() {
    local logfile=$1
    shift
    # Without job control a background child is no group leader, so setsid execs in place
    # and $! is the peer itself.
    setsid "$@" >"$logfile" 2>&1 </dev/null &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# wait_until WHAT SECONDS PID LOGFILE CMD...: poll CMD until it succeeds; fail early, with the
# peer's log, if PID dies or the time runs out.
wait_until() {
    local what=$1 seconds=$2 pid=$3 logfile=$4 i
    shift 4
    for ((i = 0; i < seconds * 10; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if ! alive "$pid"; then
            cat "$logfile" >&2
            die "$what exited before it was ready"
        fi
        sleep 0.1
    done
    cat "$logfile" >&2
    die "$what not ready after ${seconds}s"
}

# free_ports N: N distinct free loopback ports (all held open at once, so no duplicates).
free_ports() {
    python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "$1"
}

# ---------------------------------------------------------------------------------------------
# Peers.

# PostgreSQL refuses to run as root, so as root its tools run as the `postgres` user that the
# Debian package creates. From $WORK, so they never start in a directory they cannot read.
pg_run() { (cd "$WORK" && "${PG_AS[@]}" "$@"); }

start_postgres() {
    local port=$1 dir=$WORK/postgres
    mkdir -m 700 "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        PG_USER=postgres
        PG_AS=(runuser -u postgres --)
        chown postgres:postgres "$dir"
        pg_run test -w "$dir" ||
            die "the postgres user cannot reach $dir: point TMPDIR at a world-traversable dir"
    else
        PG_USER=
        PG_AS=()
    fi
    pg_run "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    }
    PG_DATA=$dir/data
    # fsync off: a throwaway cluster; many connections: the tests run in parallel, each app
    # with its own pool.
    pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$dir/postgres.log" -w -t 60 \
        -o "-k $dir -h 127.0.0.1 -p $port -c fsync=off -c max_connections=300" start >/dev/null || {
        cat "$dir/postgres.log" >&2
        die "PostgreSQL did not start"
    }
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

start_chromedriver() {
    local port=$1
    # Chromium leaves scoped dirs in TMPDIR when it is killed: keep them inside $WORK.
    mkdir "$WORK/chromium-tmp"
    start_bg "$WORK/chromedriver.log" env TMPDIR="$WORK/chromium-tmp" \
        /usr/bin/chromedriver --port="$port" --allowed-ips=127.0.0.1
    wait_until chromedriver 20 "$LAST_PID" "$WORK/chromedriver.log" \
        curl -fsS --max-time 2 "http://127.0.0.1:$port/status"
    log "chromedriver on 127.0.0.1:$port (pid $LAST_PID)"
}

# A real SMTP server that keeps every message it receives as a file (scripts/smtp-sink).
start_smtp_sink() {
    local port=$1
    SMTP_DIR=$WORK/smtp
    start_bg "$WORK/smtp-sink.log" /usr/bin/python3 scripts/smtp-sink --port "$port" --dir "$SMTP_DIR"
    wait_until "SMTP sink" 20 "$LAST_PID" "$WORK/smtp-sink.log" grep -q '^ready' "$WORK/smtp-sink.log"
    log "SMTP sink on 127.0.0.1:$port (pid $LAST_PID), keeping mail in $SMTP_DIR"
}

# A real IMAP server, Dovecot (scripts/imap-server): any user name with password `secret`, each
# with its own mailbox; IMAP on PORT, IMAPS on TLSPORT with a certificate signed by $IMAP_CA.
start_imap_server() {
    local port=$1 tls_port=$2
    IMAP_DIR=$WORK/imap
    IMAP_CA=$IMAP_DIR/ca.pem
    start_bg "$WORK/imap-server.log" scripts/imap-server --port "$port" --tls-port "$tls_port" \
        --dir "$IMAP_DIR"
    wait_until "IMAP server" 30 "$LAST_PID" "$WORK/imap-server.log" \
        curl -fsS --max-time 2 --user probe:secret "imap://127.0.0.1:$port/"
    log "Dovecot $(dovecot --version | awk '{print $1}') IMAP on 127.0.0.1:$port," \
        "IMAPS on 127.0.0.1:$tls_port (pid $LAST_PID)"
}

# A real LDAP directory, OpenLDAP's slapd (scripts/ldap-server): LDAP on PORT (StartTLS
# offered), LDAPS on TLSPORT, the test CA in $LDAP_CA, the seeded users of its header.
start_ldap_server() {
    local port=$1 tls_port=$2
    LDAP_DIR=$WORK/ldap
    LDAP_CA=$LDAP_DIR/ca.pem
    start_bg "$WORK/ldap-server.log" scripts/ldap-server --port "$port" --tls-port "$tls_port" \
        --dir "$LDAP_DIR"
    wait_until "LDAP server" 30 "$LAST_PID" "$WORK/ldap-server.log" \
        grep -q '^ready' "$WORK/ldap-server.log"
    log "slapd LDAP on 127.0.0.1:$port, LDAPS on 127.0.0.1:$tls_port (pid $LAST_PID)"
}

# A real RADIUS server, FreeRADIUS (scripts/radius-server), secret testing123; NAME names its
# folder and log, so two can run side by side for the fail-over tests.
start_radius_server() {
    local port=$1 name=$2
    start_bg "$WORK/$name.log" scripts/radius-server --port "$port" --dir "$WORK/$name"
    wait_until "RADIUS server $name" 30 "$LAST_PID" "$WORK/$name.log" \
        grep -q '^ready' "$WORK/$name.log"
    log "FreeRADIUS $name on 127.0.0.1:$port/udp (pid $LAST_PID)"
}
