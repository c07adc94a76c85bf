import { expect, test } from 'vitest';
import { buildQemuCommand, kernelCmdline } from '../../../runner/qemu/argv.js';

const none = (): boolean => false;
const all = (): boolean => true;

test('x86_64 under TCG, with qboot when installed', () => {
  expect(buildQemuCommand({ arch: 'x86_64', kernel: 'bzImage', accel: 'tcg' }, all)).toEqual({
    binary: 'qemu-system-x86_64',
    args: [
      '-nodefaults',
      '-no-reboot',
      '-display',
      'none',
      '-serial',
      'stdio',
      '-accel',
      'tcg',
      '-bios',
      'qboot.rom',
      '-m',
      '1024',
      '-smp',
      '1',
      '-kernel',
      'bzImage',
      '-append',
      'console=ttyS0 panic=-1 kunit_shutdown=reboot kunit.enable=1 no_timer_check i8042.noaux',
    ],
    cmdline: 'console=ttyS0 panic=-1 kunit_shutdown=reboot kunit.enable=1 no_timer_check i8042.noaux',
  });
  expect(buildQemuCommand({ arch: 'x86_64', kernel: 'bzImage', accel: 'tcg' }, none).args).not.toContain('-bios');
});

test('arm64: virt, cortex-a57, ttyAMA0; KVM uses the host CPU', () => {
  const cmd = buildQemuCommand({ arch: 'arm64', kernel: 'Image', accel: 'tcg', memoryMb: 512, smp: 2 }, none);
  expect(cmd.binary).toBe('qemu-system-aarch64');
  expect(cmd.args.join(' ')).toBe(
    '-nodefaults -no-reboot -display none -serial stdio -machine virt -accel tcg -cpu cortex-a57 ' +
      '-m 512 -smp 2 -kernel Image -append console=ttyAMA0 panic=-1 kunit_shutdown=reboot kunit.enable=1',
  );
  expect(buildQemuCommand({ arch: 'arm64', kernel: 'Image', accel: 'kvm' }, none).args).toContain('host');
});

test('riscv64: virt with OpenSBI (-bios default)', () => {
  const cmd = buildQemuCommand({ arch: 'riscv64', kernel: 'Image', accel: 'tcg', initrd: 'rd.img', qemuArgs: ['-s'] }, none);
  expect(cmd.binary).toBe('qemu-system-riscv64');
  expect(cmd.args).toEqual([
    '-nodefaults',
    '-no-reboot',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-machine',
    'virt',
    '-accel',
    'tcg',
    '-bios',
    'default',
    '-m',
    '1024',
    '-smp',
    '1',
    '-kernel',
    'Image',
    '-initrd',
    'rd.img',
    '-append',
    'console=ttyS0 panic=-1 kunit_shutdown=reboot kunit.enable=1',
    '-s',
  ]);
});

test('KUnit filters and list go on the kernel command line, quoted only when needed', () => {
  expect(
    kernelCmdline({
      arch: 'x86_64',
      kernel: 'k',
      accel: 'tcg',
      append: ['printk.time=1'],
      kunit: { filterGlob: 'rust*', filter: 'speed>slow, module!=x', filterAction: 'skip', action: 'list_attr' },
    }),
  ).toBe(
    'console=ttyS0 panic=-1 kunit_shutdown=reboot kunit.enable=1 kunit.filter_glob=rust* ' +
      'kunit.filter="speed>slow, module!=x" kunit.filter_action=skip kunit.action=list_attr noapictimer ' +
      'no_timer_check i8042.noaux printk.time=1',
  );
});

test('x86_64: no IO-APIC timer check and no PS/2 mouse on every boot; a listing boot also without the APIC timer', () => {
  const list = kernelCmdline({ arch: 'x86_64', kernel: 'k', accel: 'tcg', kunit: { action: 'list_attr' } }).split(' ');
  const run = kernelCmdline({ arch: 'x86_64', kernel: 'k', accel: 'tcg', kunit: { filterGlob: 'a*' } }).split(' ');
  expect(list).toEqual(expect.arrayContaining(['i8042.noaux', 'noapictimer', 'no_timer_check']));
  expect(run).toEqual(expect.arrayContaining(['i8042.noaux', 'no_timer_check']));
  expect(run).not.toContain('noapictimer');
  // Other architectures have no such words.
  expect(kernelCmdline({ arch: 'arm64', kernel: 'k', accel: 'tcg', kunit: { action: 'list_attr' } })).toBe(
    'console=ttyAMA0 panic=-1 kunit_shutdown=reboot kunit.enable=1 kunit.action=list_attr',
  );
});

const initArgs = [
  '/pkg/agent/init.sh',
  '/usr/bin/node',
  '/pkg/dist/agent/main.js',
  '--host',
  '10.0.2.2',
  '--port',
  '40123',
  '--token-file',
  '/tmp/kb/channel-1.token',
];

test("agent: devkmsg on, no kunit_shutdown, the host's root over 9p, DHCP, no PS/2 mouse probe (x86_64), and init's argv last", () => {
  const cmdline = kernelCmdline({
    arch: 'x86_64',
    kernel: 'k',
    accel: 'tcg',
    agent: { initArgs },
    kunit: { filterGlob: 'rust*' },
    append: ['quiet'],
  });
  expect(cmdline).toBe(
    'console=ttyS0 panic=-1 printk.devkmsg=on kunit.enable=1 kunit.filter_glob=rust* no_timer_check i8042.noaux quiet ' +
      'root=hostroot rootfstype=9p rootflags=trans=virtio,version=9p2000.L ro ip=dhcp ' +
      'init=/bin/sh -- /pkg/agent/init.sh /usr/bin/node /pkg/dist/agent/main.js --host 10.0.2.2 --port 40123 --token-file /tmp/kb/channel-1.token',
  );
  expect(cmdline).not.toContain('kunit_shutdown');
  // Everything after `--` is init's: the words --append adds come before it.
  expect(cmdline.split(' -- ')[1]!.split(' ')).toEqual(initArgs);
});

test('agent: a word with a space is quoted; one with a double quote cannot be passed', () => {
  const cmdline = kernelCmdline({ arch: 'arm64', kernel: 'k', accel: 'tcg', agent: { initArgs: ['/my pkg/init.sh', '/usr/bin/node'] } });
  expect(cmdline.endsWith('init=/bin/sh -- "/my pkg/init.sh" /usr/bin/node')).toBe(true);
  expect(cmdline.startsWith('console=ttyAMA0 panic=-1 printk.devkmsg=on kunit.enable=1 ')).toBe(true);
  expect(() => kernelCmdline({ arch: 'x86_64', kernel: 'k', accel: 'tcg', agent: { initArgs: ['say "hi"'] } })).toThrow(/double quote/);
});

test("agent: the host's root read-only over virtio-9p and a user network, before extra QEMU arguments", () => {
  const cmd = buildQemuCommand({ arch: 'x86_64', kernel: 'bzImage', accel: 'kvm', agent: { initArgs }, qemuArgs: ['-s'] }, none);
  const at = (flag: string): string => cmd.args[cmd.args.indexOf(flag) + 1]!;
  expect(at('-virtfs')).toBe('local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap');
  expect(at('-netdev')).toBe('user,id=n0');
  expect(at('-device')).toBe('virtio-net-pci,netdev=n0');
  expect(at('-append')).toBe(cmd.cmdline);
  expect(cmd.args.slice(-7)).toEqual(['-virtfs', at('-virtfs'), '-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0', '-s']);
  expect(at('-cpu')).toBe('host');
  // Without the agent, none of it.
  const plain = buildQemuCommand({ arch: 'x86_64', kernel: 'bzImage', accel: 'kvm' }, none).args;
  for (const flag of ['-virtfs', '-netdev', '-device']) expect(plain).not.toContain(flag);
});

test('x86_64 under TCG uses -cpu max with the agent only (RDRAND: the CRNG is ready at once); other arches keep their CPU', () => {
  const cpu = (args: string[]): string | undefined => (args.includes('-cpu') ? args[args.indexOf('-cpu') + 1] : undefined);
  expect(cpu(buildQemuCommand({ arch: 'x86_64', kernel: 'k', accel: 'tcg', agent: { initArgs } }, none).args)).toBe('max');
  expect(cpu(buildQemuCommand({ arch: 'x86_64', kernel: 'k', accel: 'tcg' }, none).args)).toBeUndefined();
  expect(cpu(buildQemuCommand({ arch: 'x86_64', kernel: 'k', accel: 'kvm', agent: { initArgs } }, none).args)).toBe('host');
  expect(cpu(buildQemuCommand({ arch: 'arm64', kernel: 'k', accel: 'tcg', agent: { initArgs } }, none).args)).toBe('cortex-a57');
  expect(cpu(buildQemuCommand({ arch: 'riscv64', kernel: 'k', accel: 'tcg', agent: { initArgs } }, none).args)).toBeUndefined();
});

test('x86_64: a listing boot gets at most 256 MiB (not with an initrd); test boots and other arches get the user memory', () => {
  const memory = (req: Parameters<typeof buildQemuCommand>[0]): string => {
    const { args } = buildQemuCommand(req, none);
    return args[args.indexOf('-m') + 1]!;
  };
  const list = { action: 'list_attr' as const };
  expect(memory({ arch: 'x86_64', kernel: 'k', accel: 'tcg', kunit: list })).toBe('256');
  expect(memory({ arch: 'x86_64', kernel: 'k', accel: 'tcg', kunit: list, memoryMb: 128 })).toBe('128');
  expect(memory({ arch: 'x86_64', kernel: 'k', accel: 'tcg', kunit: list, memoryMb: 2048 })).toBe('256');
  expect(memory({ arch: 'x86_64', kernel: 'k', accel: 'tcg', kunit: list, initrd: 'rd' })).toBe('1024');
  expect(memory({ arch: 'x86_64', kernel: 'k', accel: 'tcg', kunit: { filter: 'module=x' }, memoryMb: 2048 })).toBe('2048');
  expect(memory({ arch: 'x86_64', kernel: 'k', accel: 'tcg' })).toBe('1024');
  expect(memory({ arch: 'arm64', kernel: 'k', accel: 'tcg', kunit: list })).toBe('1024');
});
