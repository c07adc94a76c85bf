/**
 * Per-architecture QEMU profiles, as data (like kunit.py's qemu_configs/).
 * Everything arch-specific lives here; the argv builder is generic.
 */

export type Arch = 'x86_64' | 'arm64' | 'riscv64';
export const ARCHES: readonly Arch[] = ['x86_64', 'arm64', 'riscv64'];

export interface ArchProfile {
  arch: Arch;
  /** QEMU binary name (looked up on PATH unless --qemu is given). */
  qemu: string;
  /** Debian package that provides it, for the "install it" message. */
  debianPackage: string;
  /** `-machine` value, if the arch needs one. */
  machine?: string;
  /** `-cpu` for TCG, and for KVM. */
  cpu?: string;
  kvmCpu?: string;
  /**
   * `-cpu` under TCG with the agent: x86_64's `max` has RDRAND, so the guest's CRNG is ready at
   * once and Node (which waits for it) starts 0.7 s sooner (docs/agent.md).
   */
  agentTcgCpu?: string;
  /** Kernel console device. */
  console: string;
  /** `-bios` value, and the files that must exist for it to be used. */
  firmware?: { bios: string; onlyIf?: string[] };
  /** Kernel image paths, relative to a kernel build tree. */
  images: string[];
  /** `uname -m` / process.arch values that mean this arch on the host. */
  hostNames: string[];
  /** Extra arguments. */
  extra?: string[];
  /** Kernel parameters every boot of this arch gets. */
  kernelArgs?: string[];
  /**
   * Kernel parameters a listing boot (`kunit.action=list_attr`) adds: the list does not depend on
   * them, and the boot is shorter (docs/run.md, "Several QEMU instances").
   */
  listingKernelArgs?: string[];
  /**
   * Guest memory (MiB) a listing boot gets at most (without an initrd): the list does not depend on
   * it, and the kernel sets up less memory at boot (docs/run.md, "Several QEMU instances").
   */
  listingMemoryMb?: number;
  /** What `kunit-bridge build` needs to know about this arch (runner/build/). */
  build: ArchBuild;
}

/** Building a kernel for this profile: kunit.py's qemu_configs/<arch>.py, as data. */
export interface ArchBuild {
  /** `make ARCH=` value. */
  linuxArch: string;
  /** The `make` target that builds the image the profile boots, and that image (relative to the build dir). */
  target: string;
  image: string;
  /** Kconfig options the image needs to boot in this profile's QEMU and print on its console (merged under the kunitconfig). */
  kconfig: string[];
  /** The usual `CROSS_COMPILE=` prefix on a Debian host of another arch, and the package that provides it. */
  crossPrefix: string;
  crossPackage: string;
}

export const PROFILES: Readonly<Record<Arch, ArchProfile>> = {
  x86_64: {
    arch: 'x86_64',
    qemu: 'qemu-system-x86_64',
    debianPackage: 'qemu-system-x86',
    console: 'ttyS0',
    // qboot boots a kernel in a fraction of SeaBIOS's time; used when installed.
    firmware: { bios: 'qboot.rom', onlyIf: ['/usr/share/qemu/qboot.rom', '/usr/share/qemu/qboot.bin'] },
    kvmCpu: 'host',
    agentTcgCpu: 'max',
    // The IO-APIC timer check measures ticks against a delay loop: under TCG on a loaded host it
    // can fail and panic (`IO-APIC + timer doesn't work!`). No PS/2 mouse (`i8042.noaux`): its
    // probe takes ~0.3 s under TCG, which the root mount (agent) and the reboot at the end wait for
    // (bare QEMU on x86_64-rust-kunit: 1.39 → 1.10 s a boot).
    kernelArgs: ['no_timer_check', 'i8042.noaux'],
    // No local APIC timer: TCG's CPU has no TSC-deadline timer, so the kernel would calibrate it
    // against the PIT for 100 ms (longer on a loaded host). Not for test boots: without it, the tick
    // comes from the HPET/PIT, which changes how long some tests take (time_test_cases).
    listingKernelArgs: ['noapictimer'],
    // 256 MiB instead of 1024: the listing boot's QEMU took 0.555 s of CPU instead of 0.665 s
    // (median of 12 alternating pairs; x86_64-kunit-all).
    listingMemoryMb: 256,
    images: ['arch/x86/boot/bzImage', 'arch/x86_64/boot/bzImage'],
    hostNames: ['x64', 'x86_64', 'amd64'],
    build: {
      linuxArch: 'x86_64',
      target: 'bzImage',
      image: 'arch/x86/boot/bzImage',
      kconfig: ['CONFIG_SERIAL_8250=y', 'CONFIG_SERIAL_8250_CONSOLE=y'],
      crossPrefix: 'x86_64-linux-gnu-',
      crossPackage: 'gcc-x86-64-linux-gnu',
    },
  },
  arm64: {
    arch: 'arm64',
    qemu: 'qemu-system-aarch64',
    debianPackage: 'qemu-system-arm',
    machine: 'virt',
    // Without -cpu, QEMU's virt board is a 32-bit cortex-a15 and a 64-bit kernel prints nothing.
    cpu: 'cortex-a57',
    kvmCpu: 'host',
    console: 'ttyAMA0',
    images: ['arch/arm64/boot/Image', 'arch/arm64/boot/Image.gz'],
    hostNames: ['arm64', 'aarch64'],
    build: {
      linuxArch: 'arm64',
      target: 'Image',
      image: 'arch/arm64/boot/Image',
      kconfig: [
        'CONFIG_SERIAL_AMBA_PL010=y',
        'CONFIG_SERIAL_AMBA_PL010_CONSOLE=y',
        'CONFIG_SERIAL_AMBA_PL011=y',
        'CONFIG_SERIAL_AMBA_PL011_CONSOLE=y',
      ],
      crossPrefix: 'aarch64-linux-gnu-',
      crossPackage: 'gcc-aarch64-linux-gnu',
    },
  },
  riscv64: {
    arch: 'riscv64',
    qemu: 'qemu-system-riscv64',
    debianPackage: 'qemu-system-misc',
    machine: 'virt',
    console: 'ttyS0',
    firmware: { bios: 'default' },
    images: ['arch/riscv/boot/Image', 'arch/riscv/boot/Image.gz'],
    hostNames: ['riscv64'],
    build: {
      linuxArch: 'riscv',
      target: 'Image',
      image: 'arch/riscv/boot/Image',
      kconfig: [
        'CONFIG_ARCH_VIRT=y',
        'CONFIG_SERIAL_8250=y',
        'CONFIG_SERIAL_8250_CONSOLE=y',
        'CONFIG_SERIAL_OF_PLATFORM=y',
        'CONFIG_RISCV_SBI_V01=y',
        'CONFIG_SERIAL_EARLYCON_RISCV_SBI=y',
      ],
      crossPrefix: 'riscv64-linux-gnu-',
      crossPackage: 'gcc-riscv64-linux-gnu',
    },
  },
};

/** The arch of this host, if it is one we support. */
export function hostArch(nodeArch: string = process.arch): Arch | undefined {
  return ARCHES.find((a) => PROFILES[a].hostNames.includes(nodeArch));
}

/** Accept common spellings: x86_64/x86-64/amd64, arm64/aarch64, riscv64/riscv. */
export function normalizeArch(name: string): Arch | undefined {
  const n = name.toLowerCase();
  if (n === 'x86_64' || n === 'x86-64' || n === 'amd64' || n === 'x64') return 'x86_64';
  if (n === 'arm64' || n === 'aarch64') return 'arm64';
  if (n === 'riscv64' || n === 'riscv') return 'riscv64';
  return undefined;
}
