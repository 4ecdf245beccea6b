#!/usr/bin/env bash
# The linker of the release binary (scripts/build-release.sh): links as asked, then again
# with the functions of scripts/hot-functions.txt first in the text (lld's
# --symbol-ordering-file).
#
# Why: the kernel maps a program's code 64 KiB around each page it faults in, and every
# forked process faults its code in again. Spread over 4.7 MiB of text, the few hundred
# functions a `syscage run` executes cost its three processes ~90 page faults and ~3 MiB
# of resident memory; packed together (~0.7 MiB) ~26 faults and 0.7 MiB.
set -euo pipefail
cc "$@"
out=""
prev=""
for a in "$@"; do
    [ "$prev" = "-o" ] && out=$a
    prev=$a
done
list="$(dirname "$0")/hot-functions.txt"
[ -n "$out" ] && [ -f "$list" ] || exit 0
# In the list's order. Names are compared without the `.llvm.N` suffix that ThinLTO gives
# the local functions it promotes (N changes from build to build); a listed name that the
# binary no longer has (its hash changed with the compiler or a dependency's version) stands
# for every symbol of the same name without the hash (all instances of a generic function).
nm --defined-only "$out" | awk '
    function key(n) { sub(/\.llvm\.[0-9]+$/, "", n); return n }
    function bare(n) { n = key(n); sub(/17h[0-9a-f]+E$/, "", n); return n }
    NR == FNR {
        if ($2 ~ /^[tTwW]$/) {
            k = key($3); exact[k] = exact[k] " " $3
            b = bare($3); same[b] = same[b] " " $3
        }
        next
    }
    /^#/ { next }
    {
        k = key($0)
        n = split((k in exact) ? exact[k] : same[bare($0)], s, " ")
        for (i = 1; i <= n; i++) if (!(s[i] in done)) { print s[i]; done[s[i]] = 1 }
    }
' - "$list" > "$out.order"
cc "$@" -Wl,--symbol-ordering-file="$out.order" -Wl,--no-warn-symbol-ordering
rm -f "$out.order"
