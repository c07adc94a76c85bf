/**
 * The QEMU command line, built by a pure function (snapshot-tested): no
 * shell, no I/O; whether firmware exists is asked through `exists`.
 */
import { PROFILES, type Arch } from './profiles.js';

export type Accel = 'kvm' | 'tcg';

/** KUnit's boot parameters (lib/kunit/executor.c, Linux 6.12). */
export interface KunitParams {
  /** `kunit.filter_glob=suite[.test]` (glob, character classes allowed). */
  filterGlob?: string;
  /** `kunit.filter=attr-expr[,attr-expr…]`, e.g. `module!=memcpy_kunit,speed>slow`. */
  filter?: string;
  /** `kunit.filter_action=skip`: report filtered-out tests as skipped instead of leaving them out. */
  filterAction?: 'skip';
  /** `kunit.action=list|list_attr`: print the tests instead of running them. */
  action?: 'list' | 'list_attr';
}

export interface QemuRequest {
  arch: Arch;
  kernel: string;
  accel: Accel;
  /** Guest memory in MiB (default 1024). */
  memoryMb?: number;
  /** Virtual CPUs (default 1). */
  smp?: number;
  initrd?: string;
  /** Extra kernel command line words, appended last. */
  append?: string[];
  kunit?: KunitParams;
  /** Extra QEMU arguments, appended last. */
  qemuArgs?: string[];
  /** QEMU binary to use instead of the profile's. */
  qemu?: string;
  /**
   * Write the serial console to this file instead of stdout. QEMU's UART drops characters when
   * its output cannot take them fast enough (a busy reader, a full pipe); a file never refuses.
   */
  serialFile?: string;
  /**
   * Boot into the in-guest agent: the host's root read-only over 9p as the guest's root, QEMU's
   * user network, and `init=/bin/sh -- ARGS` (ARGS: agent/init.sh, Node, the agent and its flags).
   */
  agent?: { initArgs: string[] };
}

export interface QemuCommand {
  binary: string;
  args: string[];
  /** The kernel command line (also inside `args`). */
  cmdline: string;
}

/** Quote a kernel parameter value if it has spaces (the kernel understands "…"). */
function kparam(name: string, value: string): string {
  return /\s/.test(value) ? `${name}="${value}"` : `${name}=${value}`;
}

/** A word for init's argv on the kernel command line (the kernel understands "…", not escapes). */
function quoteArg(word: string): string {
  if (word.includes('"')) throw new Error(`cannot pass ${word} on the kernel command line (it holds a double quote)`);
  return /\s/.test(word) ? `"${word}"` : word;
}

/** The kernel command line for a KUnit run. */
export function kernelCmdline(req: QemuRequest): string {
  const p = PROFILES[req.arch];
  // kunit_shutdown=reboot + -no-reboot ends QEMU as soon as KUnit is done; poweroff needs ACPI,
  // which small kernels lack. panic=-1 + -no-reboot turns a panic into a prompt exit.
  // With the agent, init reboots when the agent is done: kunit_shutdown would end the guest
  // before init runs. printk.devkmsg=on: the agent's marker records are not rate-limited.
  const words = [`console=${p.console}`, 'panic=-1', ...(req.agent ? ['printk.devkmsg=on'] : ['kunit_shutdown=reboot']), 'kunit.enable=1'];
  const k = req.kunit ?? {};
  if (k.filterGlob) words.push(kparam('kunit.filter_glob', k.filterGlob));
  if (k.filter) words.push(kparam('kunit.filter', k.filter));
  if (k.filterAction) words.push(`kunit.filter_action=${k.filterAction}`);
  if (k.action) words.push(`kunit.action=${k.action}`, ...(p.listingKernelArgs ?? []));
  words.push(...(p.kernelArgs ?? []), ...(req.append ?? []));
  if (req.agent) {
    words.push('root=hostroot', 'rootfstype=9p', 'rootflags=trans=virtio,version=9p2000.L', 'ro', 'ip=dhcp');
    // Everything after `--` is init's argv, so this comes last. /bin/sh runs the script even without +x.
    words.push('init=/bin/sh', '--', ...req.agent.initArgs.map(quoteArg));
  }
  return words.join(' ');
}

/** Guest memory (MiB): the user's (default 1024), capped for a listing boot without an initrd by the profile's `listingMemoryMb`. */
export function guestMemoryMb(req: QemuRequest): number {
  const memory = req.memoryMb ?? 1024;
  const cap = PROFILES[req.arch].listingMemoryMb;
  return req.kunit?.action !== undefined && !req.initrd && cap !== undefined ? Math.min(memory, cap) : memory;
}

/** Build the QEMU command. `exists` tells whether a firmware file is installed. */
export function buildQemuCommand(req: QemuRequest, exists: (path: string) => boolean): QemuCommand {
  const p = PROFILES[req.arch];
  const cmdline = kernelCmdline(req);
  // QEMU option values escape a comma by doubling it.
  const serial = req.serialFile === undefined ? 'stdio' : `file:${req.serialFile.replace(/,/g, ',,')}`;
  const args = ['-nodefaults', '-no-reboot', '-display', 'none', '-serial', serial];
  if (p.machine) args.push('-machine', p.machine);
  args.push('-accel', req.accel);
  const cpu = req.accel === 'kvm' ? (p.kvmCpu ?? p.cpu) : req.agent ? (p.agentTcgCpu ?? p.cpu) : p.cpu;
  if (cpu) args.push('-cpu', cpu);
  if (p.firmware && (p.firmware.onlyIf === undefined || p.firmware.onlyIf.some(exists))) {
    args.push('-bios', p.firmware.bios);
  }
  args.push('-m', String(guestMemoryMb(req)), '-smp', String(req.smp ?? 1));
  args.push('-kernel', req.kernel);
  if (req.initrd) args.push('-initrd', req.initrd);
  args.push('-append', cmdline);
  if (req.agent) {
    args.push(
      '-virtfs',
      'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
      '-netdev',
      'user,id=n0',
      '-device',
      'virtio-net-pci,netdev=n0',
    );
  }
  args.push(...(req.qemuArgs ?? []));
  return { binary: req.qemu ?? p.qemu, args, cmdline };
}
