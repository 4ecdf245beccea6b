# tar with zstd, xz and gzip: a tree packed and unpacked through each, compared.
WORKLOAD=archive
. /workloads/lib.sh
cd /tmp
for z in zstd xz gzip; do
    tar -c -f "tree.tar.$z" --"$z" -C /usr/lib/python3.11 email json http
    mkdir "x-$z"
    tar -x -f "tree.tar.$z" -C "x-$z"
done
[ "$(cd x-zstd && find . -type f | sort | xargs cat | sha256sum)" = "$(cd x-xz && find . -type f | sort | xargs cat | sha256sum)" ] || fail "zstd and xz differ"
[ "$(cd x-gzip && find . -type f | sort | xargs cat | sha256sum)" = "$(cd x-xz && find . -type f | sort | xargs cat | sha256sum)" ] || fail "gzip and xz differ"
zstd -q -T2 -19 -f tree.tar.gzip -o t.zst
zstd -q -d -c t.zst | cmp - tree.tar.gzip
xz -T2 -c tree.tar.gzip | xz -d | cmp - tree.tar.gzip
say "ok $(ls tree.tar.* | wc -l) formats"
