# PostgreSQL 15 as postgres: initdb, a server on 127.0.0.1 and a socket, a table of 200,000
# rows with an index, a parallel query (dynamic shared memory), then a fast stop.
WORKLOAD=postgres
. /workloads/lib.sh
PATH=/usr/lib/postgresql/15/bin:$PATH
install -d -o postgres -g postgres /tmp/pg
as postgres initdb -D /tmp/pg/data -A trust -U postgres -E UTF8 --no-locale >/tmp/pg/initdb.log
as postgres pg_ctl -D /tmp/pg/data -l /tmp/pg/server.log -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -k /tmp/pg" start >/dev/null
q() { PGOPTIONS=${PGOPTIONS:-} psql -X -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -c "$1"; }
q "create table t (id int primary key, v text); insert into t select i, md5(i::text) from generate_series(1, 200000) i" >/dev/null
[ "$(q "select count(*) from t where v like 'a%'")" -gt 0 ] || fail "count"
# Parallel workers share memory through /dev/shm (dynamic_shared_memory_type posix).
PGOPTIONS="-c max_parallel_workers_per_gather=2 -c parallel_setup_cost=0 -c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0"
[ "$(q "select count(*), sum(length(v)) from t")" = "200000|6400000" ] || fail "parallel query"
q "explain (analyze, costs off) select count(*) from t" | grep -q 'Workers Launched: [12]' ||
    fail "no parallel worker started"
[ "$(psql -X -A -t -h /tmp/pg -U postgres -c 'select 1')" = 1 ] || fail "unix socket"
as postgres pg_ctl -D /tmp/pg/data -m fast -w stop >/dev/null
say "ok $(postgres --version | cut -d' ' -f3)"
