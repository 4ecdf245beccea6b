# Python 3: threads, a TCP server, hashlib, sqlite3, subprocess, multiprocessing (POSIX
# semaphores in /dev/shm).
WORKLOAD=python
. /workloads/lib.sh
python3 - <<'PY'
import hashlib, multiprocessing, socket, socketserver, sqlite3, subprocess, sys, threading

class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(hashlib.sha256(self.rfile.readline()).hexdigest().encode())

with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo) as srv:
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    for i in range(20):
        with socket.create_connection(srv.server_address) as c:
            c.sendall(b"line %d\n" % i)
            assert c.makefile().read() == hashlib.sha256(b"line %d\n" % i).hexdigest()
    srv.shutdown()

db = sqlite3.connect("/tmp/py.db")
db.execute("create table t (i integer)")
db.executemany("insert into t values (?)", ((i,) for i in range(10000)))
assert db.execute("select sum(i) from t").fetchone()[0] == 49995000
db.close()

assert subprocess.run(["/bin/echo", "child"], capture_output=True).stdout == b"child\n"

def square(x):
    return x * x

if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        assert sum(pool.map(square, range(100))) == 328350
    print("python: ok", sys.version.split()[0])
PY
