/**
 * Choosing the accelerator. `auto` uses KVM when /dev/kvm is usable, but a
 * KVM that does not get the kernel to print anything within a few seconds
 * (nested hypervisors that hang in the BIOS, or QEMU aborting on an MSR) is
 * abandoned for TCG with a one-line warning — and remembered, so the next
 * run does not wait on it again.
 */
import { accessSync, constants } from 'node:fs';
import { release } from 'node:os';
import { readCache, writeCache } from '../cache.js';

export type AccelChoice = 'auto' | 'kvm' | 'tcg';

interface KvmMemo {
  hostKernel: string;
  qemu: string;
  works: boolean;
  checked: string;
}

const MEMO = 'kvm.json';

export function kvmUsable(device = '/dev/kvm'): boolean {
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** What to try first, and whether a dead KVM should fall back to TCG. */
export function initialAccel(
  choice: AccelChoice,
  qemu: string,
  nativeGuest: boolean,
): { accel: 'kvm' | 'tcg'; probe: boolean; note?: string } {
  if (choice === 'tcg') return { accel: 'tcg', probe: false };
  if (choice === 'kvm') return { accel: 'kvm', probe: false };
  // KVM runs guests of the host's own architecture only.
  if (!nativeGuest || !kvmUsable()) return { accel: 'tcg', probe: false };
  const memo = readCache<KvmMemo>(MEMO);
  if (memo && memo.hostKernel === release() && memo.qemu === qemu && !memo.works) {
    return {
      accel: 'tcg',
      probe: false,
      note: `KVM skipped: it did not boot a kernel on ${memo.checked.slice(0, 10)} (--accel kvm to force it, or delete the cache's ${MEMO})`,
    };
  }
  return { accel: 'kvm', probe: true };
}

/** Remember whether KVM worked on this host with this QEMU. */
export function rememberKvm(qemu: string, works: boolean): void {
  writeCache(MEMO, { hostKernel: release(), qemu, works, checked: new Date().toISOString() } satisfies KvmMemo);
}
