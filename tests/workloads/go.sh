# The Go tool chain builds a program (the compiler and linker are Go programs), which runs.
WORKLOAD=go
. /workloads/lib.sh
export GOCACHE=/tmp/go-cache GOPATH=/tmp/go GOFLAGS=-mod=mod GOTOOLCHAIN=local
cp /workloads/work.go /tmp/work.go
cd /tmp
go build -o /tmp/work /tmp/work.go
/tmp/work
