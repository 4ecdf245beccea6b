# nginx with Debian's configuration (root master, www-data workers): a page over IPv4 and
# IPv6, a 4 MiB file through sendfile, a 404, then a graceful stop.
# syscage: --tmpfs /var/lib/nginx --tmpfs /var/log/nginx --tmpfs /var/www/html
WORKLOAD=nginx
. /workloads/lib.sh
echo 'Welcome to nginx in syscage' >/var/www/html/index.html
head -c 4194304 /dev/urandom >/var/www/html/big
nginx -t -q
nginx
up() { curl -fsS -o /dev/null http://127.0.0.1/; }
wait_for 20 up
curl -fsS http://127.0.0.1/ | grep -q 'Welcome to nginx' || fail "page over IPv4"
curl -fsS 'http://[::1]/' | grep -q 'Welcome to nginx' || fail "page over IPv6"
[ "$(curl -fsS http://127.0.0.1/big | sha256sum)" = "$(sha256sum </var/www/html/big)" ] || fail "4 MiB file"
[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1/missing)" = 404 ] || fail "404"
workers() {
    for d in /proc/[0-9]*; do
        case "$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)" in "nginx: worker process"*) stat -c %U "$d" ;; esac
    done
}
[ "$(workers | sort -u)" = www-data ] || fail "workers are not www-data: $(workers)"
nginx -s quit
gone() { ! [ -e /run/nginx.pid ]; }
wait_for 20 gone
say "ok $(nginx -v 2>&1 | cut -d/ -f2)"
