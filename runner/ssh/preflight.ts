/**
 * What the run needs to know about the target before it starts, in one
 * command (a POSIX shell and coreutils-or-busybox are all it needs): kernel
 * release, boot id, KUnit config, debugfs (mounted here if it is not), the
 * suites KUnit has debugfs files for, taint, and the tools steps need. The
 * script is data; `parsePreflight` is pure.
 */

export const KUNIT_DEBUGFS = '/sys/kernel/debug/kunit';
export const FILTER_GLOB = '/sys/module/kunit/parameters/filter_glob';

/** The preflight script; each line of its output is `@KEY VALUE`. */
export const PREFLIGHT_SCRIPT = [
  'echo "@release $(uname -r)"',
  'echo "@machine $(uname -m)"',
  'echo "@version $(uname -v)"',
  'echo "@boot $(cat /proc/sys/kernel/random/boot_id)"',
  'echo "@taint $(cat /proc/sys/kernel/tainted 2>/dev/null)"',
  'echo "@uid $(id -u)"',
  'if [ -r /proc/config.gz ]; then echo "@config yes"; (zcat /proc/config.gz 2>/dev/null || gzip -dc </proc/config.gz) | grep -E \'^CONFIG_(KUNIT[A-Z0-9_]*|DEBUG_FS|MODULES|MODULE_UNLOAD)=\' | sed \'s/^/@cfg /\'; else echo "@config no"; fi',
  'if grep -q " /sys/kernel/debug debugfs " /proc/mounts; then echo "@debugfs mounted"; elif mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null; then echo "@debugfs mounted-now"; else echo "@debugfs no"; fi',
  `if [ -d ${KUNIT_DEBUGFS} ]; then echo "@kunit yes"; for d in ${KUNIT_DEBUGFS}/*; do [ -e "$d/run" ] && echo "@suite \${d##*/}"; done; else echo "@kunit no"; fi`,
  `[ -r ${FILTER_GLOB} ] && echo "@glob $(cat ${FILTER_GLOB})"`,
  'echo "@devkmsg $(cat /proc/sys/kernel/printk_devkmsg 2>/dev/null)"',
  'for t in cat sha256sum insmod rmmod mktemp; do command -v $t >/dev/null 2>&1 && echo "@have $t"; done',
  '[ -r /dev/kmsg ] && echo "@kmsg yes"',
  'true',
].join('\n');

export interface Preflight {
  release: string;
  machine: string;
  /** `uname -v`: `#1 SMP PREEMPT_DYNAMIC …` */
  version: string;
  bootId: string;
  taint: number;
  uid: number;
  /** KUnit-related options from /proc/config.gz (undefined: the target has no /proc/config.gz). */
  config?: Record<string, string>;
  debugfs: 'mounted' | 'mounted-now' | 'no';
  /** Suites with a debugfs run file (the suites that ran). */
  suites: string[];
  kunitDebugfs: boolean;
  /** filter_glob as the kernel has it (undefined: not readable). */
  filterGlob?: string;
  devkmsg: string;
  tools: string[];
  kmsg: boolean;
}

export function parsePreflight(out: string): Preflight {
  const p: Preflight = {
    release: '',
    machine: '',
    version: '',
    bootId: '',
    taint: 0,
    uid: -1,
    debugfs: 'no',
    suites: [],
    kunitDebugfs: false,
    devkmsg: '',
    tools: [],
    kmsg: false,
  };
  for (const line of out.split('\n')) {
    const m = /^@(\w+) ?(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value = ''] = m;
    switch (key) {
      case 'release':
        p.release = value.trim();
        break;
      case 'machine':
        p.machine = value.trim();
        break;
      case 'version':
        p.version = value.trim();
        break;
      case 'boot':
        p.bootId = value.trim();
        break;
      case 'taint':
        p.taint = Number(value) || 0;
        break;
      case 'uid':
        p.uid = Number(value);
        break;
      case 'config':
        if (value === 'yes') p.config = {};
        break;
      case 'cfg': {
        const eq = value.indexOf('=');
        if (eq > 0 && p.config) p.config[value.slice(0, eq)] = value.slice(eq + 1);
        break;
      }
      case 'debugfs':
        p.debugfs = value === 'mounted' || value === 'mounted-now' ? value : 'no';
        break;
      case 'kunit':
        p.kunitDebugfs = value === 'yes';
        break;
      case 'suite':
        p.suites.push(value.trim());
        break;
      case 'glob':
        p.filterGlob = value;
        break;
      case 'devkmsg':
        p.devkmsg = value.trim();
        break;
      case 'have':
        p.tools.push(value.trim());
        break;
      case 'kmsg':
        p.kmsg = true;
        break;
    }
  }
  return p;
}

export interface PreflightNeeds {
  /** debugfs re-runs (--filter, --repeat). */
  reruns: boolean;
  modules: boolean;
}

/** Each missing prerequisite as one line, "what is missing: what it means". */
export function preflightProblems(p: Preflight, needs: PreflightNeeds): string[] {
  const out: string[] = [];
  const cfg = (o: string): string | undefined => p.config?.[`CONFIG_${o}`];
  if (!p.bootId) out.push('the target has no /proc/sys/kernel/random/boot_id: a reboot cannot be told from a lost connection');
  if (!p.kmsg)
    out.push('/dev/kmsg cannot be read on the target: no kernel log, no results (log in as root, or set kernel.dmesg_restrict=0)');
  if (p.config && cfg('KUNIT') === undefined) out.push('the kernel is built without CONFIG_KUNIT: there are no KUnit tests to run');
  if (needs.reruns) {
    if (p.debugfs === 'no') {
      out.push(
        p.config && cfg('DEBUG_FS') === undefined
          ? 'debugfs is not mounted and cannot be: the kernel lacks CONFIG_DEBUG_FS, so suites cannot be re-run (--filter, --repeat)'
          : 'debugfs is not mounted and cannot be: KUnit re-runs need it at /sys/kernel/debug with CONFIG_KUNIT_DEBUGFS (--filter, --repeat)',
      );
    } else if (!p.kunitDebugfs) {
      out.push(`${KUNIT_DEBUGFS} does not exist: KUnit results need CONFIG_KUNIT_DEBUGFS, so suites cannot be re-run (--filter, --repeat)`);
    }
  }
  if (needs.modules) {
    if (p.config && cfg('MODULES') === undefined)
      out.push('the kernel is built without CONFIG_MODULES: test modules cannot be loaded (--modules)');
    for (const t of ['insmod', 'sha256sum'])
      if (!p.tools.includes(t)) out.push(`the target has no ${t}: test modules cannot be loaded (--modules)`);
  }
  if (p.uid !== 0) out.push(`logged in as uid ${p.uid}, not root: KUnit's debugfs files and insmod need root`);
  return out;
}

/** preflight → results.json's metadata (strings). */
export function preflightMetadata(p: Preflight, problems: readonly string[]): Record<string, string> {
  const kunitOptions = p.config
    ? Object.entries(p.config)
        .filter(([k]) => k.startsWith('CONFIG_KUNIT'))
        .map(([k, v]) => `${k.slice(7)}=${v}`)
        .join(' ')
    : undefined;
  return {
    targetRelease: p.release,
    targetMachine: p.machine,
    targetBootId: p.bootId,
    targetTaint: String(p.taint),
    targetDebugfs: p.debugfs,
    targetSuites: String(p.suites.length),
    targetKunitConfig: kunitOptions ?? 'unknown (no /proc/config.gz)',
    ...(p.filterGlob !== undefined ? { targetFilterGlob: p.filterGlob } : {}),
    ...(problems.length ? { targetProblems: problems.join(' | ') } : {}),
  };
}
