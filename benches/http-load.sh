#!/usr/bin/env bash
# HTTP load runs of the release `tasklane` server, for one store: seed → server → workloads →
# stop. The bare axum baseline (`bare-axum`, answering a task's JSON) runs in the same
# sequence, against the same load tool. Figures and their reading: docs/BENCHMARKS.md.
#
#   benches/http-load.sh sled
#   benches/http-load.sh postgres [URL]
#
# URL defaults to postgres://postgres@127.0.0.1:5432/test; the data goes to the schema
# $PG_SCHEMA (tasklane_bench), dropped at the end. Settings, from the environment:
#
#   RUN_SECONDS=10      measured window of each workload
#   WARMUP_SECONDS      unmeasured load before it: 2 on sled, 10 on PostgreSQL (whose record
#                       cache reads each of the 100,000 tasks from the database once, a pass
#                       that takes a few seconds; the measured window is the steady state)
#   CONNECTIONS=32      keep-alive connections
#   TASKS=100000        tasks in the seeded project
#   WORKLOADS="bare get-task page create-task"
#   BUILD=1             build the release binaries first (0: use what target/release has)
#   KEEP_DATA=0         1 keeps the seeded data (sled directory, PostgreSQL schema) afterwards
#   PG_SCHEMA=tasklane_bench
#
# The server runs with its defaults except rate limits, which are turned off explicitly
# (TASKLANE_RATE_LIMIT__ENABLED=false): one token sending thousands of requests a second is
# what they exist to stop. Exits non-zero when a workload had errors.
set -euo pipefail

store=${1:-}
case "$store" in
sled) ;;
postgres) database_url=${2:-postgres://postgres@127.0.0.1:5432/test} ;;
*)
    echo "usage: $0 sled | postgres [URL]" >&2
    exit 64
    ;;
esac

run_seconds=${RUN_SECONDS:-10}
case "$store" in
sled) warmup_seconds=${WARMUP_SECONDS:-2} ;;
postgres) warmup_seconds=${WARMUP_SECONDS:-10} ;;
esac
connections=${CONNECTIONS:-32}
tasks=${TASKS:-100000}
workloads=${WORKLOADS:-bare get-task page create-task}
pg_schema=${PG_SCHEMA:-tasklane_bench}

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release
work=$root/target/http-load/$store
mkdir -p "$work"

if [ "${BUILD:-1}" = 1 ]; then
    (cd "$root" && cargo build --release -p tasklane-server -p tasklane-benches --bins)
fi

server_pid=
bare_pid=
stop() {
    # SIGTERM: the server finishes requests in flight and flushes or closes its store.
    if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
    if [ -n "$bare_pid" ]; then kill -INT "$bare_pid" 2>/dev/null || true; fi
    if [ -n "$server_pid" ]; then wait "$server_pid" 2>/dev/null || true; fi
    if [ -n "$bare_pid" ]; then wait "$bare_pid" 2>/dev/null || true; fi
    server_pid=
    bare_pid=
    if [ "${KEEP_DATA:-0}" != 1 ]; then
        case "$store" in
        sled) rm -rf "$work/data" ;;
        postgres) "$bin/tasklane-load" clean --database-url "$database_url" --schema "$pg_schema" || true ;;
        esac
    fi
}
trap stop EXIT

# Waits for a server's "listening on http://ADDR" line in $1 and prints the URL.
listening_url() {
    local out=$1 pid=$2
    for _ in $(seq 1 600); do
        if url=$(sed -n 's/^listening on //p' "$out") && [ -n "$url" ]; then
            echo "$url"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the server exited; its log:" >&2
            cat "$out" "$out.err" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    echo "the server did not start in 60 s" >&2
    return 1
}

echo "== machine: $(nproc) cores; $(uptime)"

echo "== seed: $tasks tasks ($store)"
case "$store" in
sled)
    "$bin/tasklane-load" seed --data-dir "$work/data" --reset --tasks "$tasks" --out "$work/seed.json"
    store_flags=(--data-dir "$work/data")
    ;;
postgres)
    "$bin/tasklane-load" seed --database-url "$database_url" --schema "$pg_schema" --reset \
        --tasks "$tasks" --out "$work/seed.json"
    store_flags=(--database-url "$database_url")
    export TASKLANE_POSTGRES__SCHEMA=$pg_schema
    ;;
esac

echo "== server: tasklane serve ${store_flags[*]} (rate limits off)"
TASKLANE_RATE_LIMIT__ENABLED=false "$bin/tasklane" serve --bind 127.0.0.1:0 "${store_flags[@]}" \
    >"$work/server.out" 2>"$work/server.out.err" &
server_pid=$!
url=$(listening_url "$work/server.out" "$server_pid")
echo "   $url (pid $server_pid)"

"$bin/tasklane-load" sample --url "$url" --seed "$work/seed.json" --out "$work/task.json"
"$bin/bare-axum" --body-file "$work/task.json" >"$work/bare.out" 2>"$work/bare.out.err" &
bare_pid=$!
bare_url=$(listening_url "$work/bare.out" "$bare_pid")
echo "== baseline: bare-axum at $bare_url (pid $bare_pid)"

results=$work/results.txt
: >"$results"
failed=0
for workload in $workloads; do
    echo "== $workload"
    if [ "$workload" = bare ]; then
        target=(--url "$bare_url" --server-pid "$bare_pid" --label bare-axum)
    else
        target=(--url "$url" --server-pid "$server_pid" --seed "$work/seed.json" --label "$store")
    fi
    status=0
    "$bin/tasklane-load" run --workload "$workload" "${target[@]}" --connections "$connections" \
        --seconds "$run_seconds" --warmup-seconds "$warmup_seconds" | tee -a "$results" || status=$?
    if [ "$status" != 0 ]; then failed=1; fi
done

echo
echo "== summary ($store, $connections connections, ${run_seconds} s each; $(uptime | sed 's/.*load/load/'))"
grep '^RESULT' "$results" | sed 's/^RESULT //'
if [ "$failed" != 0 ]; then
    echo "!!! at least one workload had errors or failed: see above" >&2
    exit 1
fi
