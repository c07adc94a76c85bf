import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { staleImageWarning } from '../../../runner/build/stale.js';
import { configHash, STAMP_FILE, writeStamp } from '../../../runner/build/stamp.js';

function buildDir(image: number, config: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'stale-'));
  mkdirSync(join(dir, 'arch/x86/boot'), { recursive: true });
  writeFileSync(join(dir, 'arch/x86/boot/bzImage'), 'x');
  writeFileSync(join(dir, '.config'), 'CONFIG_KUNIT=y\n');
  utimesSync(join(dir, 'arch/x86/boot/bzImage'), image, image);
  utimesSync(join(dir, '.config'), config, config);
  return dir;
}

test('an image older than the .config: one line naming both; a newer one, or none: nothing', () => {
  expect(staleImageWarning(buildDir(1000, 2000), 'x86_64', '.kunit')).toBe(
    '.kunit/arch/x86/boot/bzImage is older than .kunit/.config: booting it as it is (rebuild with run --build, or kunit-bridge build)',
  );
  expect(staleImageWarning(buildDir(2000, 1000), 'x86_64')).toBeUndefined();
  expect(staleImageWarning(buildDir(1000, 2000), 'arm64')).toBeUndefined();
});

test("a build that rewrote the .config but relinked nothing: its stamp's time counts as the image's", () => {
  const dir = buildDir(1000, 2000);
  writeStamp(dir, { version: 1, inputs: 'i', config: configHash(dir)! });
  utimesSync(join(dir, STAMP_FILE), 3000, 3000);
  expect(staleImageWarning(dir, 'x86_64')).toBeUndefined();
  // The .config edited since: the stamp is not this .config's.
  writeFileSync(join(dir, '.config'), 'CONFIG_KUNIT=m\n');
  expect(staleImageWarning(dir, 'x86_64')).toMatch(/is older than .*\.config/);
});
