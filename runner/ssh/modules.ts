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

export function readModule(file: string): ModuleInfo {
  const bytes = readFileSync(file);
  const compressed = /\.ko\.(xz|gz|zst)$/.test(file);
  const vermagic = compressed ? undefined : modinfo(bytes, 'vermagic')?.split(' ')[0];
  const name = (compressed ? undefined : modinfo(bytes, 'name')) ?? basename(file).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
  return { file, name, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), ...(vermagic ? { vermagic } : {}) };
}

/** Why a module must not be loaded into `release` (undefined: it may). */
export function vermagicProblem(m: ModuleInfo, release: string): string | undefined {
  if (m.vermagic === undefined) return undefined; // compressed: insmod checks it
  return m.vermagic === release ? undefined
    : `${basename(m.file)} was built for ${m.vermagic}, the target runs ${release} (vermagic): not loaded`;
}

/** Copy bytes to `remote` over SFTP. */
export function upload(client: Client, bytes: Buffer, remote: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.sftp((err, sftp) => {
      if (err) return reject(err);
      sftp.writeFile(remote, bytes, (e) => {
        sftp.end();
        if (e) reject(e); else resolve();
      });
    });
  });
}
