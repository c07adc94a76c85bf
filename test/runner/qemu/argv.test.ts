import { expect, test } from 'vitest';
import { buildQemuCommand, kernelCmdline } from '../../../runner/qemu/argv.js';

const none = (): boolean => false;
const all = (): boolean => true;

test('x86_64 under TCG, with qboot when installed', () => {
  expect(buildQemuCommand({ arch: 'x86_64', kernel: 'bzImage', accel: 'tcg' }, all)).toEqual({
    binary: 'qemu-system-x86_64',
    args: ['-nodefaults', '-no-reboot', '-display', 'none', '-serial', 'stdio', '-accel', 'tcg', '-bios', 'qboot.rom',
      '-m', '1024', '-smp', '1', '-kernel', 'bzImage', '-append', 'console=ttyS0 panic=-1 kunit_shutdown=reboot kunit.enable=1'],
    cmdline: 'console=ttyS0 panic=-1 kunit_shutdown=reboot kunit.enable=1',
  });
  expect(buildQemuCommand({ arch: 'x86_64', kernel: 'bzImage', accel: 'tcg' }, none).args).not.toContain('-bios');
});

test('arm64: virt, cortex-a57, ttyAMA0; KVM uses the host CPU', () => {
  const cmd = buildQemuCommand({ arch: 'arm64', kernel: 'Image', accel: 'tcg', memoryMb: 512, smp: 2 }, none);
  expect(cmd.binary).toBe('qemu-system-aarch64');
  expect(cmd.args.join(' ')).toBe('-nodefaults -no-reboot -display none -serial stdio -machine virt -accel tcg -cpu cortex-a57 '
    + '-m 512 -smp 2 -kernel Image -append console=ttyAMA0 panic=-1 kunit_shutdown=reboot kunit.enable=1');
  expect(buildQemuCommand({ arch: 'arm64', kernel: 'Image', accel: 'kvm' }, none).args).toContain('host');
});

test('riscv64: virt with OpenSBI (-bios default)', () => {
  const cmd = buildQemuCommand({ arch: 'riscv64', kernel: 'Image', accel: 'tcg', initrd: 'rd.img', qemuArgs: ['-s'] }, none);
  expect(cmd.binary).toBe('qemu-system-riscv64');
  expect(cmd.args).toEqual(['-nodefaults', '-no-reboot', '-display', 'none', '-serial', 'stdio', '-machine', 'virt', '-accel', 'tcg',
    '-bios', 'default', '-m', '1024', '-smp', '1', '-kernel', 'Image', '-initrd', 'rd.img',
    '-append', 'console=ttyS0 panic=-1 kunit_shutdown=reboot kunit.enable=1', '-s']);
});

test('KUnit filters and list go on the kernel command line, quoted only when needed', () => {
  expect(kernelCmdline({
    arch: 'x86_64', kernel: 'k', accel: 'tcg', append: ['printk.time=1'],
    kunit: { filterGlob: 'rust*', filter: 'speed>slow, module!=x', filterAction: 'skip', action: 'list_attr' },
  })).toBe('console=ttyS0 panic=-1 kunit_shutdown=reboot kunit.enable=1 kunit.filter_glob=rust* '
    + 'kunit.filter="speed>slow, module!=x" kunit.filter_action=skip kunit.action=list_attr printk.time=1');
});
