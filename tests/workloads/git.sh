# git: commits, a branch and merge, gc, a local clone, an archive.
WORKLOAD=git
. /workloads/lib.sh
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
git init -q -b main /tmp/repo
cd /tmp/repo
for i in 1 2 3 4 5; do
    seq "$i" 1000 >"f$i"
    git add "f$i"
    git commit -q -m "commit $i"
done
git checkout -q -b side
echo side >side
git add side
git commit -q -m side
git checkout -q main
git merge -q --no-edit side
git gc -q
git clone -q /tmp/repo /tmp/clone
[ "$(git -C /tmp/clone rev-list --count HEAD)" = 6 ] || fail "clone has the wrong history"
git archive HEAD | tar -t | grep -q '^side$' || fail "archive"
say "ok $(git --version | cut -d' ' -f3)"
