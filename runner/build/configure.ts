/**
 * The configuration step: unless the stamp says nothing changed, write the
 * build dir's .config from the merged fragments, (with Rust) check the Rust
 * toolchain with `make rustavailable`, run `make olddefconfig`, and check
 * that every requested option landed (exit 2 naming what each one needs).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BridgeError } from '../errors.js';
import { explainAll } from './kconfig-deps.js';
import { entryLine, missingOptions, parseDotConfig, type KconfigEntry } from './kunitconfig.js';
import { olddefconfigCommand, rustavailableCommand, type MakeRequest } from './make-command.js';
import { runMake, type MakeExit } from './make-process.js';
import { describeRustGaps, rustGaps, wantsRust } from './rust.js';
import { configHash, inputsHash, needsReconfig, readStamp, writeStamp } from './stamp.js';
import { describeError, firstError } from './first-error.js';
import { missingHostTool } from './toolchain.js';

export interface ConfigureRequest {
  make: Omit<MakeRequest, 'jobs'>;
  entries: readonly KconfigEntry[];
  /** The build log's descriptor and path (for messages). */
  logFd: number;
  log: string;
  signal?: AbortSignal;
  /** Told each command before it runs. */
  onCommand?: (what: string) => void;
}

export interface Configured {
  /** The .config was written and `make olddefconfig` ran. */
  reconfigured: boolean;
  /** sha256 of the .config. */
  configHash: string;
}

/** A failed make of the configuration step: a missing host tool (4), else the first error (9). */
function failed(what: string, exit: MakeExit, r: ConfigureRequest): BridgeError {
  const tool = missingHostTool(exit.lines, r.log);
  if (tool) return tool;
  const e = firstError(exit.lines, r.make.source);
  return new BridgeError(
    'E_BUILD_FAILED',
    `${what} failed: ${e ? describeError(e) : `make exited with ${exit.code}`} (full log: ${r.log})`,
  );
}

function interrupted(r: ConfigureRequest): boolean {
  return r.signal?.aborted === true;
}

export async function configure(r: ConfigureRequest): Promise<Configured> {
  const buildDir = r.make.buildDir;
  const inputs = inputsHash({ entries: r.entries, arch: r.make.arch, crossCompile: r.make.crossCompile, makeOptions: r.make.makeOptions });
  const stamp = readStamp(buildDir);
  const before = configHash(buildDir);
  if (!needsReconfig(stamp, inputs, before)) return { reconfigured: false, configHash: before! };

  if (wantsRust(r.entries)) {
    r.onCommand?.('make rustavailable');
    const rust = await runMake(rustavailableCommand(r.make), { logFd: r.logFd, signal: r.signal });
    if (interrupted(r)) return { reconfigured: true, configHash: '' };
    if (rust.code !== 0)
      throw new BridgeError('E_RUST_UNAVAILABLE', describeRustGaps(rustGaps(rust.lines.join('\n')), rust.lines.join('\n')));
  }
  writeFileSync(join(buildDir, '.config'), r.entries.map((e) => `${entryLine(e)}\n`).join(''));
  r.onCommand?.('make olddefconfig');
  const old = await runMake(olddefconfigCommand(r.make), { logFd: r.logFd, signal: r.signal });
  if (interrupted(r)) return { reconfigured: true, configHash: '' };
  if (old.code !== 0) throw failed('make olddefconfig', old, r);

  const config = parseDotConfig(readFileSync(join(buildDir, '.config'), 'utf8'));
  const missing = missingOptions(r.entries, config);
  if (missing.length > 0) {
    const why = explainAll(r.make.source, [...new Set(missing.map((m) => m.name))], config);
    const each = missing.map(
      (m) =>
        `${entryLine(m)} (${m.where}) ${config.has(m.name) ? `is ${config.get(m.name)}` : 'is not set'}: ${
          m.value === 'n' ? `another option selects it (the \`select ${m.name}\` lines of the Kconfig files)` : why.get(m.name)
        }`,
    );
    throw new BridgeError(
      'E_KCONFIG_UNMET',
      `${missing.length} requested option(s) did not land in ${join(buildDir, '.config')} after make olddefconfig: ${each.join('; ')}`,
    );
  }
  const hash = configHash(buildDir)!;
  writeStamp(buildDir, { version: 1, inputs, config: hash, ...(stamp?.objects ? { objects: stamp.objects } : {}) });
  return { reconfigured: true, configHash: hash };
}
