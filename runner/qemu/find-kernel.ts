/**
 * Which kernel image to boot: the one given, or the one a kernel developer
 * expects when run from a kernel tree (kunit.py's build dir `.kunit/`, then
 * the tree's own build). Also tells a kernel image's architecture from its
 * header, so a wrong `--arch` is caught before QEMU prints nothing.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BridgeError, describeReadError } from '../errors.js';
import { PROFILES, type Arch } from './profiles.js';

/** Candidate paths for `arch`, in the order they are tried. */
export function kernelCandidates(arch: Arch, cwd: string): string[] {
  const images = PROFILES[arch].images;
  return [...images.map((i) => join(cwd, '.kunit', i)), ...images.map((i) => join(cwd, i))];
}

/** The arch a kernel image was built for, from its header; undefined when unknown (e.g. gzip). */
export function imageArch(header: Buffer): Arch | undefined {
  if (header.length >= 0x206 && header.toString('latin1', 0x202, 0x206) === 'HdrS') return 'x86_64';
  if (header.length >= 0x3c) {
    const magic = header.toString('latin1', 0x38, 0x3c);
    if (magic === 'ARM\x64') return 'arm64';
    if (magic === 'RSC\x05') return 'riscv64';
  }
  return undefined;
}

function readHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Resolve and check the kernel image. Throws BridgeError: exit 2 when none
 * is found or its arch does not match, exit 4 when it cannot be read.
 */
export function findKernel(arch: Arch, given: string | undefined, cwd: string = process.cwd()): string {
  let path: string;
  if (given !== undefined) {
    path = resolve(cwd, given);
  } else {
    const tried = kernelCandidates(arch, cwd);
    const found = tried.find((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
    if (!found) {
      throw new BridgeError(
        'E_NO_KERNEL',
        `no kernel image found for ${arch}: looked for ${tried.map((p) => p.replace(`${cwd}/`, '')).join(', ')} (pass --kernel PATH, or run from a built kernel tree)`,
      );
    }
    path = found;
  }
  let header: Buffer;
  try {
    if (!statSync(path).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    header = readHeader(path);
  } catch (err) {
    const why = describeReadError(err, 'not a regular file');
    throw new BridgeError('E_KERNEL_UNREADABLE', `cannot read kernel image ${path}: ${why}`);
  }
  const actual = imageArch(header);
  if (actual !== undefined && actual !== arch) {
    throw new BridgeError('E_WRONG_ARCH', `${path} is an ${actual} kernel image, but the run is for ${arch} (pass --arch ${actual})`);
  }
  return path;
}
