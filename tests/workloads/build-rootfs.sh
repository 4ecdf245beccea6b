#!/bin/sh
# build-rootfs.sh DIR MIRROR SUITE PACKAGES: a Debian root file system in DIR (debootstrap
# minbase, then the packages listed in the file PACKAGES through apt in a chroot).
#
# Run it in mount and pid namespaces of its own (scripts/workloads.sh runs it under
# `unshare --mount --propagation private --pid --fork --kill-child`): the /proc and /sys
# that debootstrap and the chroot mount vanish with the namespace, and killing unshare
# ends every process of the build, even if a step fails or the build is interrupted; the
# host keeps no mount below DIR.
set -eu
dir=$1 mirror=$2 suite=$3 packages=$4
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 ||
    { tail -n 20 "$dir.debootstrap.log" >&2; exit 1; }

# No service starts in the chroot (a package's postinst would start it on the host's
# network); no documentation; no cluster made at install time (the workload makes its own).
printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
chmod 755 "$dir/usr/sbin/policy-rc.d"
cat >"$dir/etc/dpkg/dpkg.cfg.d/workloads" <<'CFG'
force-unsafe-io
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
printf 'Acquire::Languages "none";\nAPT::Install-Recommends "false";\n' >"$dir/etc/apt/apt.conf.d/90workloads"
mkdir -p "$dir/etc/postgresql-common/createcluster.d"
echo 'create_main_cluster = false' >"$dir/etc/postgresql-common/createcluster.d/workloads.conf"

mount -t proc proc "$dir/proc"
chroot "$dir" apt-get update -qq
# shellcheck disable=SC2046 # one package a word
chroot "$dir" apt-get install -y -q $(grep -v '^#' "$packages") >"$dir.apt.log" 2>&1 ||
    { tail -n 20 "$dir.apt.log" >&2; exit 1; }
chroot "$dir" apt-get clean
umount "$dir/proc"
rm -f "$dir/usr/sbin/policy-rc.d"
rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log "$dir"/var/log/apt/*
