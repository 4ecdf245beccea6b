# PHP: a socket server and client in one process, hashing, files, a child process.
WORKLOAD=php
. /workloads/lib.sh
php -r '
function fail($m) { fwrite(STDERR, "php: FAILED: $m\n"); exit(1); }
$srv = stream_socket_server("tcp://127.0.0.1:0", $errno, $err) or fail("server: $err");
$addr = stream_socket_get_name($srv, false);
$c = stream_socket_client("tcp://$addr", $errno, $err) or fail("client: $err");
$s = stream_socket_accept($srv);
fwrite($c, "ping\n");
fwrite($s, hash("sha256", fgets($s)));
fclose($s);
if (stream_get_contents($c) !== hash("sha256", "ping\n")) fail("wrong digest");
file_put_contents("/tmp/php-data", random_bytes(65536));
if (strlen(file_get_contents("/tmp/php-data")) !== 65536) fail("file");
if (shell_exec("/bin/echo child") !== "child\n") fail("child");
echo "php: ok ", PHP_VERSION, "\n";
'
