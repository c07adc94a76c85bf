import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { describeRustGaps, rustGaps, wantsRust } from '../../../runner/build/rust.js';
import { REPO } from '../../helpers/corpus.js';

test('make rustavailable without rustc (real output): rustc, from rustc-web', () => {
  const out = readFileSync(join(REPO, 'test/fixtures/build/rustavailable-no-rustc.log'), 'utf8');
  const gaps = rustGaps(out);
  expect(gaps.map((g) => g.packages)).toEqual([['rustc-web']]);
  expect(describeRustGaps(gaps, out)).toBe(
    'the Rust toolchain is not usable for this kernel: missing rustc (the Rust compiler) (apt-get install rustc-web; and --make-options LLVM=1)',
  );
});

test("each of the script's complaints names its Debian packages, each once", () => {
  const out = [
    "*** Rust bindings generator 'bindgen' could not be found.",
    "*** Source code for the 'core' standard library could not be found",
    "*** Running 'bindgen' to check the libclang version (used by the Rust",
    "*** Rust bindings generator 'bindgen' could not be found.",
  ].join('\n');
  expect(rustGaps(out).flatMap((g) => g.packages)).toEqual(['bindgen', 'rust-web-src', 'libclang-dev', 'clang']);
  expect(describeRustGaps([], '*** Something new\n')).toBe('make rustavailable failed: Something new');
});

test('CONFIG_RUST=y asks for Rust', () => {
  expect(wantsRust([{ name: 'RUST', value: 'y' }])).toBe(true);
  expect(wantsRust([{ name: 'RUST', value: 'n' }])).toBe(false);
});
