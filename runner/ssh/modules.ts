/**
 * Test modules for a live kernel: what a `.ko` says about itself (its
 * `.modinfo` strings: `vermagic=`, `name=`), the check that it was built for
 * the running kernel, and the upload over SFTP with a hash check.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Client } from 'ssh2';

export interface ModuleInfo {
  file: string;
  /** The module's name (modinfo `name=`, else the file name with `-` as `_`). */
  name: string;
  /** The first word of `vermagic=` (the kernel release it was built for); undefined if unreadable. */
  vermagic?: string;
  /** The whole `vermagic=` string (`6.12.117 SMP mod_unload aarch64`). */
  vermagicFull?: string;
  /** The machine its ELF header says (`uname -m` spelling), when known. */
  machine?: string;
  sha256: string;
  bytes: Buffer;
}

/** A `.modinfo` string of an uncompressed module (`key=value`, NUL-terminated). */
export function modinfo(bytes: Buffer, key: string): string | undefined {
  const needle = Buffer.from(`\0${key}=`, 'latin1');
  const at = bytes.indexOf(needle);
  if (at < 0) return undefined;
  const start = at + needle.length;
  const end = bytes.indexOf(0, start);
  return bytes.toString('utf8', start, end < 0 ? undefined : end);
}

/** ELF e_machine → `uname -m`. */
const ELF_MACHINES: Record<number, string> = { 3: 'i686', 40: 'arm', 62: 'x86_64', 183: 'aarch64', 243: 'riscv64' };

/** The machine of an ELF file (little-endian headers only), in `uname -m` spelling. */
export function elfMachine(bytes: Buffer): string | undefined {
  if (bytes.length < 20 || bytes.toString('latin1', 0, 4) !== '\x7fELF' || bytes[5] !== 1) return undefined;
  return ELF_MACHINES[bytes.readUInt16LE(18)];
}

export function readModule(file: string): ModuleInfo {
  const bytes = readFileSync(file);
  const compressed = /\.ko\.(xz|gz|zst)$/.test(file);
  const full = compressed ? undefined : modinfo(bytes, 'vermagic')?.trim();
  const vermagic = full?.split(' ')[0];
  const machine = compressed ? undefined : elfMachine(bytes);
  const name =
    (compressed ? undefined : modinfo(bytes, 'name')) ??
    basename(file)
      .replace(/\.ko(\.\w+)?$/, '')
      .replace(/-/g, '_');
  return {
    file,
    name,
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ...(vermagic ? { vermagic, vermagicFull: full } : {}),
    ...(machine ? { machine } : {}),
  };
}

/** What the running kernel says of itself: `uname -r`, `-v`, `-m`. */
export interface KernelIdentity {
  release: string;
  version: string;
  machine: string;
}

/**
 * Why a module must not be loaded into this kernel (undefined: it may): another release in its
 * `vermagic`, another machine in its ELF header, or SMP on one side only. A compressed module is
 * not looked into (insmod checks it).
 */
export function vermagicProblem(m: ModuleInfo, k: KernelIdentity): string | undefined {
  if (m.vermagic === undefined) return undefined;
  const file = basename(m.file);
  const built = `${file} was built for "${m.vermagicFull ?? m.vermagic}"${m.machine ? ` (${m.machine})` : ''}`;
  const runs = `the target runs ${k.release} on ${k.machine || 'an unknown machine'}`;
  if (m.vermagic !== k.release) return `${built}, ${runs} (vermagic): not loaded`;
  if (m.machine && k.machine && m.machine !== k.machine) return `${built}, ${runs} (another machine): not loaded`;
  const smp = / SMP /.test(` ${m.vermagicFull ?? ''} `);
  if (k.version && smp !== / SMP /.test(` ${k.version} `))
    return `${built}, ${runs}, which is ${smp ? 'not ' : ''}SMP (vermagic): not loaded`;
  return undefined;
}

/** Copy bytes to `remote` over SFTP. */
export function upload(client: Client, bytes: Buffer, remote: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.sftp((err, sftp) => {
      if (err) return reject(err);
      sftp.writeFile(remote, bytes, (e) => {
        sftp.end();
        if (e) reject(e);
        else resolve();
      });
    });
  });
}
