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
# In the list's order. A listed name that the binary no longer has (its hash changed with
# the compiler or a dependency's version) stands for every symbol of the same name without
# the hash (all instances of a generic function).
nm --defined-only "$out" | awk '
    function bare(n) { sub(/17h[0-9a-f]+E$/, "", n); return n }
    NR == FNR { if ($2 ~ /^[tTwW]$/) { have[$3] = 1; b = bare($3); same[b] = same[b] " " $3 }; next }
    /^#/ { next }
    $0 in have { print; next }
    { k = split(same[bare($0)], s, " "); for (i = 1; i <= k; i++) if (!(s[i] in done)) { print s[i]; done[s[i]] = 1 } }
' - "$list" > "$out.order"
cc "$@" -Wl,--symbol-ordering-file="$out.order" -Wl,--no-warn-symbol-ordering
rm -f "$out.order"
