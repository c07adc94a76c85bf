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
# and, unless the runner has stopped QEMU at the agent's bye, ends QEMU with a
# reboot, which -no-reboot turns into QEMU's exit.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "kunit-bridge-init: $*"; }
say "start"
NODE=$1

# All mounts with one mount(8) (each exec reads mount and its libraries over 9p): agent/guest.fstab.
mount -a -T "${0%/*}/guest.fstab" || say "error: mounting ${0%/*}/guest.fstab failed"
# What is mounted now, with the shell's builtins only: /proc must be the guest's (kb-proc), and /dev
# a devtmpfs (the kernel's with DEVTMPFS_MOUNT; before, /dev is the host's over 9p).
P= D=
while read -r src dst fs _; do
  [ "$src $dst" = "kb-proc /proc" ] && P=1
  [ "$dst $fs" = "/dev devtmpfs" ] && D=1
done </proc/mounts
[ -n "$P" ] || say "error: /proc is not the guest's: mount -a skipped it"
[ -n "$D" ] || mount -t devtmpfs devtmpfs /dev || say "error: mounting /dev failed"
export TMPDIR=/run HOME=/run TERM=dumb NO_COLOR=1 SYSTEMD_COLORS=0

if [ ! -x "$NODE" ]; then
  say "error: node is not executable in the guest: $NODE"
else
  read -r UPTIME _ </proc/uptime
  say "exec-node $UPTIME"
  "$@"
  say "agent-exit status=$?"
fi
# The runner stops QEMU once it has the agent's bye; if it has not, end QEMU here: reboot(2)
# (with -no-reboot QEMU exits). `reboot -f` calls it directly with systemd's systemctl, busybox
# and sysvinit; perl (Debian: essential) is the fallback; last resort: PID 1 exits, the kernel panics, and panic=-1 reboots.
reboot -f 2>/dev/null
case "$(uname -m)" in x86_64) NR=169 ;; *) NR=142 ;; esac
perl -e "syscall($NR, 0xfee1dead, 672274793, 0x01234567, 0) or die" 2>/dev/null
say "end: reboot failed; exiting PID 1"
