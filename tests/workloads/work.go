// Go: goroutines, an HTTP server and clients on loopback, SHA-256, files, a child process.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sync"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "go: FAILED:", err)
		os.Exit(1)
	}
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.Sum256([]byte(r.URL.Path))
		io.WriteString(w, hex.EncodeToString(sum[:]))
	}))
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := fmt.Sprintf("/item/%d", i)
			resp, err := http.Get("http://" + ln.Addr().String() + path)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			sum := sha256.Sum256([]byte(path))
			if err == nil && string(body) != hex.EncodeToString(sum[:]) {
				err = fmt.Errorf("wrong digest for %s", path)
			}
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		check(err)
	}
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	check(os.WriteFile("/tmp/go-data", data, 0o600))
	back, err := os.ReadFile("/tmp/go-data")
	check(err)
	if string(back) != string(data) {
		check(fmt.Errorf("file read back differs"))
	}
	out, err := exec.Command("/bin/echo", "child").Output()
	check(err)
	if string(out) != "child\n" {
		check(fmt.Errorf("child said %q", out))
	}
	fmt.Printf("go: ok %s goroutines+http threads=%d\n", runtime.Version(), runtime.GOMAXPROCS(0))
}
