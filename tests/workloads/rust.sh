# cargo and rustc build a crate (rustc runs cc and ld to link it), which runs.
WORKLOAD=rust
. /workloads/lib.sh
mkdir -p /tmp/crate/src
cp /workloads/rust.rs /tmp/crate/src/main.rs
printf '[package]\nname = "work"\nversion = "0.1.0"\nedition = "2021"\n' >/tmp/crate/Cargo.toml
cd /tmp/crate
cargo build --offline --quiet
out=$(./target/debug/work)
echo "$out $(rustc --version | cut -d' ' -f2)"
