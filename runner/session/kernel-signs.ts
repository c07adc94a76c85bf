/**
 * What the console says about the kernel: whether anything that looks like
 * kernel output came (a QEMU that exits without it failed, or KVM did), and
 * whether the kernel panicked.
 */
const KERNEL_OUTPUT = /Linux version|\[\s*\d+\.\d+\]|KTAP version|Booting Linux|earlycon|Decompressing Linux/;
const PANIC_LINE = 'Kernel panic - not syncing';

export class KernelSigns {
  /** The guest printed something that looks like kernel output. */
  sawKernel = false;
  /** The console said `Kernel panic - not syncing`. */
  panicked = false;
  /** The last bytes before kernel output was seen (a marker may straddle two chunks). */
  private head = '';

  /** A raw chunk of console output. */
  chunk(chunk: Buffer): void {
    if (this.sawKernel) return;
    this.head = (this.head + chunk.toString('latin1')).slice(-512);
    this.sawKernel = KERNEL_OUTPUT.test(this.head);
  }

  /** A console line: true when it is the first panic line. */
  line(text: string): boolean {
    if (this.panicked || !text.includes(PANIC_LINE)) return false;
    this.panicked = true;
    return true;
  }
}
