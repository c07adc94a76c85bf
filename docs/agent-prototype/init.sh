#!/bin/sh
# PID 1 for `run --agent` (prototype). The kernel runs it from the host's root,
# shared read-only over 9p, with the words after `--` on the kernel command line
# as arguments (see below).
# It mounts what the agent needs, prints markers on the serial console (the
# runner's way to tell "init ran" and "node failed" from a silent hang), runs
# the agent as a child (sh stays PID 1, so a dying node does not panic the
# kernel) and ends QEMU with a reboot (-no-reboot turns it into QEMU's exit).
#   init.sh NODE [node flags] AGENT [agent args]   (the runner builds it: it knows its Node)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "kunit-bridge-init: $*"; }
say "start pid=$$ args=$*"
NODE=$1

mount -t proc proc /proc || say "error: mount /proc failed"
mount -t sysfs sysfs /sys || say "error: mount /sys failed"
# /dev is the host's /dev through 9p until devtmpfs is mounted (DEVTMPFS_MOUNT=y does it for us).
grep -q '^[^ ]* /dev devtmpfs' /proc/mounts || mount -t devtmpfs devtmpfs /dev || say "error: mount /dev failed"
mount -t debugfs debugfs /sys/kernel/debug || say "error: mount debugfs failed"
# tmpfs on /run, not /tmp: the host's /tmp (checkouts, mkdtemp dirs, this prototype) stays visible.
mount -t tmpfs tmpfs /run || say "error: mount /run failed"
export TMPDIR=/run HOME=/run TERM=dumb NO_COLOR=1 SYSTEMD_COLORS=0

if [ ! -x "$NODE" ]; then
  say "error: node not executable: $NODE"
else
  say "exec-node $(cut -d' ' -f1 /proc/uptime)"
  "$@"
  say "agent-exit status=$? uptime=$(cut -d' ' -f1 /proc/uptime)"
fi
sync 2>/dev/null
# End QEMU: reboot(2) with -no-reboot. `reboot -f` calls it directly with
# systemd's systemctl, busybox and sysvinit; perl-base (Debian: essential)
# as the fallback; last resort: PID 1 exits, the kernel panics, panic=-1 reboots.
say "end: reboot -f"
reboot -f
say "end: reboot -f failed (status $?); perl reboot(2)"
perl -e 'syscall(169, 0xfee1dead, 672274793, 0x01234567, 0) or die "reboot: $!\n"'
say "end: perl failed; exiting PID 1 (panic)"
