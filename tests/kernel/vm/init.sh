#!/bin/sh
# pid 1 of the cgroup v2 VM (tests/kernel/vm/vm.ts boots it). The root file system is the host's,
# read-only over 9p; the results export (tag "results", writable) holds job.env, written by the
# host, and receives results.jsonl. Mounts what a cgroup v2 node has, runs tests/kernel/vm/guest.ts
# with the checks named in job.env, and powers off. Every line for the host starts "oomhero-vm:".
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

say() { echo "oomhero-vm: $*"; }

# Puts the host's directory $1 back at its path when it lay under the host's /tmp.
host_dir() {
  case "$1" in
    /tmp/*) mkdir -p "$1" && mount --bind "/run/host-tmp/${1#/tmp/}" "$1" ;;
  esac
}

# The initramfs moved /proc, /sys and /dev here already; mount whatever it did not.
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mount -t cgroup2 cgroup2 /sys/fs/cgroup || say "init: cannot mount cgroup2"
mount -t tmpfs tmpfs /run
# The host's /tmp stays reachable under /run/host-tmp: a checkout (CI's clone) may live there.
mkdir /run/host-tmp && mount --bind /tmp /run/host-tmp
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /tmp/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /tmp/results ||
  say "init: cannot mount the results export"
ip link set lo up
# Kernel messages (the OOM killer's report) would break the marker lines.
echo 1 >/proc/sys/kernel/printk

if [ -r /tmp/results/job.env ]; then
  . /tmp/results/job.env
  host_dir "$OOMHERO_VM_ROOT"
  host_dir "$DENO_DIR"
  # The host's npm cache, read-only, in a DENO_DIR of our own where Deno may write its other caches.
  mkdir /tmp/deno-dir && ln -s "$DENO_DIR/npm" /tmp/deno-dir/npm
  export HOME=/tmp DENO_DIR=/tmp/deno-dir DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
  say "guest up $(cut -d ' ' -f 1 /proc/uptime)s"
  cd "$OOMHERO_VM_ROOT" && "$OOMHERO_VM_DENO" run --allow-all tests/kernel/vm/guest.ts \
    /tmp/results/results.jsonl $OOMHERO_VM_CHECKS
  say "guest exited $? $(cut -d ' ' -f 1 /proc/uptime)s"
else
  say "init: no /tmp/results/job.env"
fi
sync
say "power off"
echo o >/proc/sysrq-trigger
# Power-off is asynchronous; pid 1 must not exit before it.
sleep 60
