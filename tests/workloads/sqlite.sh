# The sqlite3 shell: a WAL database of 100,000 rows, an index, an aggregate.
WORKLOAD=sqlite
. /workloads/lib.sh
out=$(sqlite3 /tmp/s.db <<'SQL'
pragma journal_mode = wal;
create table t (i integer primary key, v text);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000)
insert into t select i, hex(randomblob(16)) from n;
create index t_v on t (v);
select count(*), sum(i) from t;
SQL
)
[ "$(echo "$out" | tail -1)" = "100000|5000050000" ] || fail "sqlite3 said: $out"
say "ok $(sqlite3 --version | cut -d' ' -f1)"
