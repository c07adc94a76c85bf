/**
 * The conformance corpus: every log in ../shared/fixtures/ktap/ and every
 * fixture kernel's boot*.log, named `<dir>--<file without .log>` like the
 * kunit.py goldens in test/golden/kunit-py/.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = resolve(REPO, '../shared');
export const FIXTURES = join(SHARED, 'fixtures');
export const GOLDEN = join(REPO, 'test/golden');
/** The JUnit schemas every JUnit report must validate against. */
export const JUNIT_SCHEMAS = ['junit-10.xsd', 'jenkins-junit.xsd'].map((f) => join(SHARED, 'schemas', f));

export interface CorpusLog {
  name: string;
  path: string;
}

function walk(dir: string, pick: (file: string) => boolean, out: string[]): void {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, pick, out);
    else if (pick(e)) out.push(p);
  }
}

/** Every corpus log, sorted by name. */
export function corpus(): CorpusLog[] {
  if (!existsSync(FIXTURES)) throw new Error(`fixtures not found at ${FIXTURES}: clone the repo with ../shared beside it`);
  const files: string[] = [];
  walk(join(FIXTURES, 'ktap'), (f) => f.endsWith('.log'), files);
  walk(join(FIXTURES, 'kernels'), (f) => /^boot.*\.log$/.test(f), files);
  return files
    .map((path) => ({ name: `${basename(dirname(path))}--${basename(path, '.log')}`, path }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A fixture kernel's file. */
export function kernelFixture(kernel: string, file: string): string {
  return join(FIXTURES, 'kernels', kernel, file);
}
