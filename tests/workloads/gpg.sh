# GnuPG: an Ed25519 key (gpg-agent starts on demand), a signature, its verification.
WORKLOAD=gpg
. /workloads/lib.sh
export GNUPGHOME=/tmp/gnupg
install -d -m 700 "$GNUPGHOME"
gpg -q --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'Test <test@example.org>' ed25519 sign never 2>/dev/null
echo "signed text" >/tmp/msg
gpg -q --batch --pinentry-mode loopback --passphrase '' --detach-sign /tmp/msg 2>/dev/null
gpg -q --batch --verify /tmp/msg.sig /tmp/msg 2>/tmp/verify || fail "verify: $(cat /tmp/verify)"
gpgconf --kill gpg-agent
say "ok $(gpg --version | head -1 | cut -d' ' -f3)"
