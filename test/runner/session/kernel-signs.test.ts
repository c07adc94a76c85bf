import { expect, test } from 'vitest';
import { KernelSigns } from '../../../runner/session/kernel-signs.js';

test('kernel output is seen even when its marker straddles two chunks', () => {
  const s = new KernelSigns();
  s.chunk(Buffer.from('SeaBIOS (version 1.16)\r\nBooting from ROM...\r\n'));
  expect(s.sawKernel).toBe(false);
  s.chunk(Buffer.from('[    0.000000] Linux ver'));
  expect(s.sawKernel).toBe(true); // the timestamp already
  const t = new KernelSigns();
  t.chunk(Buffer.from('Linux ver'));
  expect(t.sawKernel).toBe(false);
  t.chunk(Buffer.from('sion 6.12.0'));
  expect(t.sawKernel).toBe(true);
});

test('firmware alone is not kernel output', () => {
  const s = new KernelSigns();
  s.chunk(Buffer.from('iPXE (https://ipxe.org) 00:03.0 CA00 PCI2.10 PnP PMM+06FCB0E0+06F0B0E0 CA00\r\n'));
  expect(s.sawKernel).toBe(false);
});

test('the panic line is reported once', () => {
  const s = new KernelSigns();
  expect(s.line('[    1.234] ok 1 example')).toBe(false);
  expect(s.panicked).toBe(false);
  expect(s.line('[    2.345] Kernel panic - not syncing: Attempted to kill init!')).toBe(true);
  expect(s.line('[    2.346] Kernel panic - not syncing: again')).toBe(false);
  expect(s.panicked).toBe(true);
});
