/**
 * What booting into the agent needs from the host: the agent's files in
 * this package, the words for init's argv, the test modules to load, and a
 * look at the kernel's config (when one sits beside the image) for what
 * the agent cannot do without.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BridgeError } from '../errors.js';
import type { Arch } from '../qemu/profiles.js';

/** The package root: two levels up from runner/agent/ (source), three from dist/runner/agent/. */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return [resolve(here, '../..'), resolve(here, '../../..')].find((d) => existsSync(join(d, 'agent', 'init.sh'))) ?? resolve(here, '../..');
}

export interface AgentFiles {
  /** PID 1 in the guest (sh script). */
  init: string;
  /** The compiled agent, in one file (scripts/bundle-agent.mjs: one 9p read instead of 20 modules). */
  main: string;
}

export function agentFiles(): AgentFiles {
  const root = packageRoot();
  const files = { init: join(root, 'agent', 'init.sh'), main: join(root, 'dist', 'agent', 'agent.cjs') };
  // init.sh reads its mounts from guest.fstab beside it.
  const missing = [files.init, join(root, 'agent', 'guest.fstab'), files.main].find((f) => !existsSync(f));
  if (missing) {
    throw new BridgeError('E_AGENT_FILES', `the agent's files are missing (${missing}): run \`npm run build\` in ${root}`);
  }
  return files;
}

/** Where QEMU's user network puts the host's loopback, seen from the guest. */
export const GUEST_HOST_ADDRESS = '10.0.2.2';

/** Init's argv: the token stays in its file (a command line is readable by every user of the host). */
export function agentInitArgs(files: AgentFiles, node: string, port: number, tokenFile: string): string[] {
  return [files.init, node, files.main, '--host', GUEST_HOST_ADDRESS, '--port', String(port), '--token-file', tokenFile];
}

/** Where the token files go: the temp directory, unless the guest cannot see it (init mounts its own /run). */
export function tokenBase(tmp: string, outputDir: string): string {
  return tmp === '/run' || tmp.startsWith('/run/') ? outputDir : tmp;
}

const MODULE_FILE = /\.ko(\.(xz|gz|zst))?$/;

/** `--modules` values (directories, searched recursively, or module files) → module files, in order. */
export function findModules(specs: readonly string[], cwd: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (MODULE_FILE.test(e.name)) out.push(p);
    }
  };
  for (const spec of specs) {
    const p = resolve(cwd, spec);
    if (!existsSync(p)) throw new BridgeError('E_USAGE', `--modules ${spec}: no such file or directory`);
    const before = out.length;
    if (statSync(p).isDirectory()) walk(p);
    else out.push(p);
    if (out.length === before) throw new BridgeError('E_USAGE', `--modules ${spec}: no kernel modules (*.ko) in it`);
  }
  return [...new Set(out)];
}

/** The kernel's .config, when the image sits beside it (`config`, `.config`) or in its build tree. */
export function kernelConfig(kernel: string): string | undefined {
  const dir = dirname(kernel);
  for (const p of [join(dir, '.config'), join(dir, 'config'), resolve(dir, '../../../.config')]) {
    if (existsSync(p) && statSync(p).isFile()) return readFileSync(p, 'utf8');
  }
  return undefined;
}

/** Options the agent boot needs built in (docs/agent.md says why). */
const NEEDED = [
  'NET_9P',
  'NET_9P_VIRTIO',
  '9P_FS',
  'VIRTIO_PCI',
  'VIRTIO_NET',
  'INET',
  'IP_PNP',
  'IP_PNP_DHCP',
  'UNIX',
  'DEVTMPFS',
  'DEBUG_FS',
  'PROC_FS',
  'SYSFS',
  'BINFMT_ELF',
  'FUTEX',
  'EPOLL',
  'EVENTFD',
  'ADVISE_SYSCALLS',
];
/** The options of `config` that the agent needs and the kernel lacks. */
export function agentConfigGaps(config: string, arch: Arch, withModules: boolean): string[] {
  const set = new Set<string>();
  for (const m of config.matchAll(/^CONFIG_(\w+)=y$/gm)) set.add(m[1]!);
  const needed = [...NEEDED];
  // qboot's tables route no PCI interrupts: virtio-pci needs MSI, or the 9p root mount waits forever.
  if (arch === 'x86_64') needed.push('PCI_MSI');
  if (withModules) needed.push('MODULES');
  return needed.filter((o) => !set.has(o)).map((o) => `CONFIG_${o}`);
}
