#!/bin/sh
# PID 1 for `kunit-bridge run --agent`. The kernel runs it with the host's root
# shared read-only over 9p as its root; the runner puts the words after `--`
# on the kernel command line, which become its arguments:
#
#   init.sh NODE [node flags] AGENT [agent args]
#
# It mounts what the agent needs, prints markers on the serial console (how
# the runner tells "init ran" and "node failed" from a silent hang), runs the
# agent as a child (sh stays PID 1, so a dying Node does not panic the kernel)
# and ends QEMU with a reboot, which -no-reboot turns into QEMU's exit.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "kunit-bridge-init: $*"; }
say "start"
NODE=$1

mount -t proc proc /proc || say "error: mounting /proc failed"
mount -t sysfs sysfs /sys || say "error: mounting /sys failed"
# Until devtmpfs is mounted, /dev is the host's /dev through 9p (so don't test for /dev/kmsg).
grep -q '^[^ ]* /dev devtmpfs' /proc/mounts || mount -t devtmpfs devtmpfs /dev || say "error: mounting /dev failed"
mount -t debugfs debugfs /sys/kernel/debug || say "error: mounting debugfs failed"
# tmpfs on /run, not /tmp: the host's /tmp (checkouts, modules) stays visible.
mount -t tmpfs tmpfs /run || say "error: mounting /run failed"
export TMPDIR=/run HOME=/run TERM=dumb NO_COLOR=1 SYSTEMD_COLORS=0

if [ ! -x "$NODE" ]; then
  say "error: node is not executable in the guest: $NODE"
else
  say "exec-node $(cut -d' ' -f1 /proc/uptime)"
  "$@"
  say "agent-exit status=$?"
fi
sync 2>/dev/null
# End QEMU: reboot(2) (with -no-reboot QEMU exits). `reboot -f` calls it directly with
# systemd's systemctl, busybox and sysvinit; perl (Debian: essential) is the fallback;
# last resort: PID 1 exits, the kernel panics, and panic=-1 reboots.
reboot -f 2>/dev/null
case "$(uname -m)" in x86_64) NR=169 ;; *) NR=142 ;; esac
perl -e "syscall($NR, 0xfee1dead, 672274793, 0x01234567, 0) or die" 2>/dev/null
say "end: reboot failed; exiting PID 1"
