# Redis 7 as its own user: SET/GET, a list, a background save (fork), redis-benchmark.
WORKLOAD=redis
. /workloads/lib.sh
install -d -o redis -g redis /tmp/redis
as redis redis-server --bind 127.0.0.1 --port 6379 --dir /tmp/redis --save '' \
    --daemonize yes --pidfile /tmp/redis/redis.pid --logfile /tmp/redis/redis.log
pong() { [ "$(redis-cli ping)" = PONG ]; }
wait_for 20 pong
[ "$(redis-cli set greeting hello)" = OK ] || fail "SET"
[ "$(redis-cli get greeting)" = hello ] || fail "GET"
redis-cli rpush l a b c >/dev/null
[ "$(redis-cli lrange l 0 -1 | tr '\n' ' ')" = "a b c " ] || fail "LRANGE"
# 20,000 keys through the pipe mode, in the protocol's own encoding.
seq 20000 | awk '{ k = "key:" $1; printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length($1), $1 }' |
    redis-cli --pipe | grep -q 'errors: 0, replies: 20000' || fail "pipe"
redis-cli bgsave >/dev/null
saved() { redis-cli info persistence | grep -q '^rdb_bgsave_in_progress:0' && [ -s /tmp/redis/dump.rdb ]; }
wait_for 30 saved
redis-cli info persistence | grep -q '^rdb_last_bgsave_status:ok' || fail "BGSAVE"
redis-benchmark -q -n 5000 -c 10 -t set,get,lpush,incr >/tmp/redis/bench
[ "$(grep -c 'requests per second' /tmp/redis/bench)" = 4 ] || fail "redis-benchmark: $(cat /tmp/redis/bench)"
[ "$(redis-cli dbsize)" -ge 20000 ] || fail "DBSIZE"
redis-cli shutdown nosave >/dev/null 2>&1 || true
gone() { ! [ -e /tmp/redis/redis.pid ]; }
wait_for 20 gone
say "ok $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/')"
