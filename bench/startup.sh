#!/usr/bin/env bash
# Startup benchmark: time from exec to the first 200 from /healthz and from /readyz, and the
# resident memory once idle, for the release binary on SQLite (and on PostgreSQL when
# BENCH_PG_URL names a server whose user may CREATE DATABASE).
#
#   bench/startup.sh [RUNS]        default 15 runs per case; prints a Markdown table
#
# Cases: "first start" (empty database: migrations and the admin's argon2id hash) and
# "restart" (migrated database). Each run is a fresh process; the two timings come from one
# run. Polling is every 2 ms, so figures carry ±2 ms of polling granularity.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-15}
BIN=target/release/opsdesk
[ -x "$BIN" ] || cargo build --release --locked >&2
WORK=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run_once DB_URL → "healthz_ms readyz_ms rss_kib"
run_once() {
    local url=$1 port cfg t0 th tr
    port=$(free_port)
    cfg=$WORK/opsdesk.toml
    printf 'listen = "127.0.0.1:%s"\ndatabase_url = "%s"\n' "$port" "$url" >"$cfg"
    t0=$(now_ns)
    OPSDESK_ADMIN_PASSWORD=bench-admin-password RUST_LOG=warn "$BIN" --config "$cfg" serve >"$WORK/log" 2>&1 &
    PID=$!
    th=
    tr=
    for _ in $(seq 10000); do
        if [ -z "$th" ] && curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; then th=$(now_ns); fi
        if [ -n "$th" ] && curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; then tr=$(now_ns); break; fi
        kill -0 "$PID" 2>/dev/null || { cat "$WORK/log" >&2; exit 1; }
        sleep 0.002
    done
    # Idle: let start-up work (housekeeping job, pool warm-up) settle, then read RSS.
    sleep 3
    local rss
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
    echo "$(((th - t0) / 1000000)) $(((tr - t0) / 1000000)) $rss"
}

# stats "v1 v2 ..." → "median p90 max"
stats() {
    python3 -c '
import sys, statistics
v = sorted(float(x) for x in sys.argv[1:])
p90 = v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]
print(f"{statistics.median(v):.0f} {p90:.0f} {v[-1]:.0f}")' "$@"
}

bench_case() {
    local label=$1 fresh=$2 url_of=$3
    local h=() r=() m=() url out
    for i in $(seq "$RUNS"); do
        url=$($url_of "$fresh" "$i")
        out=$(run_once "$url")
        read -r a b c <<<"$out"
        h+=("$a"); r+=("$b"); m+=("$c")
    done
    read -r hm hp hx <<<"$(stats "${h[@]}")"
    read -r rm rp rx <<<"$(stats "${r[@]}")"
    read -r mm mp mx <<<"$(stats "${m[@]}")"
    printf '| %s | %s | %s / %s / %s | %s / %s / %s | %s / %s |\n' "$label" "$RUNS" "$hm" "$hp" "$hx" "$rm" "$rp" "$rx" \
        "$(python3 -c "print(f'{$mm/1024:.1f}')")" "$(python3 -c "print(f'{$mx/1024:.1f}')")"
}

sqlite_url() {
    local fresh=$1 i=$2
    if [ "$fresh" = yes ]; then echo "sqlite://$WORK/fresh-$i.db"; else echo "sqlite://$WORK/warm.db"; fi
}

pg_url() {
    local fresh=$1 i=$2 name
    if [ "$fresh" = yes ]; then name="bench_fresh_${i}_$$"; else name="bench_warm_$$"; fi
    psql -q "$BENCH_PG_URL" -c "SELECT 1 FROM pg_database WHERE datname = '$name'" -tA | grep -q 1 ||
        psql -q "$BENCH_PG_URL" -c "CREATE DATABASE $name" >/dev/null
    echo "${BENCH_PG_URL%/*}/$name"
}

echo "| backend, case | runs | to /healthz ms (median / p90 / max) | to /readyz ms (median / p90 / max) | idle RSS MiB (median / max) |"
echo "|---|---|---|---|---|"
bench_case "SQLite, first start" yes sqlite_url
run_once "$(sqlite_url no 0)" >/dev/null   # migrate the warm database once
bench_case "SQLite, restart" no sqlite_url
if [ -n "${BENCH_PG_URL:-}" ]; then
    bench_case "PostgreSQL, first start" yes pg_url
    run_once "$(pg_url no 0)" >/dev/null
    bench_case "PostgreSQL, restart" no pg_url
fi
