/**
 * The build step: `make` for the image, its output folded into progress,
 * and a failure turned into one error: a missing host tool (exit 4), or the
 * first compiler or linker error with its file:line and lines (exit 9).
 */
import { BridgeError } from '../errors.js';
import { describeError, firstError } from './first-error.js';
import { buildCommand, type MakeRequest } from './make-command.js';
import { runMake } from './make-process.js';
import { BuildProgress, type ProgressSnapshot } from './progress.js';
import { missingHostTool } from './toolchain.js';

export interface CompileRequest {
  make: MakeRequest;
  logFd: number;
  log: string;
  signal?: AbortSignal;
  /** After each kbuild step. */
  onProgress?: (p: Readonly<ProgressSnapshot>) => void;
}

export interface Compiled {
  progress: Readonly<ProgressSnapshot>;
  /** The build was stopped by the signal. */
  interrupted: boolean;
}

export async function compile(r: CompileRequest): Promise<Compiled> {
  const progress = new BuildProgress();
  const exit = await runMake(buildCommand(r.make), {
    logFd: r.logFd,
    signal: r.signal,
    onLine: (l) => {
      if (progress.line(l)) r.onProgress?.(progress.snapshot);
    },
  });
  if (r.signal?.aborted) return { progress: progress.snapshot, interrupted: true };
  if (exit.code !== 0) {
    const tool = missingHostTool(exit.lines, r.log);
    if (tool) throw tool;
    const e = firstError(exit.lines, r.make.source);
    const head = e ? describeError(e) : `make exited with ${exit.code ?? exit.signal}`;
    const rest = e
      ? e.lines
          .slice(1)
          .map((l) => `\n    ${l}`)
          .join('')
      : '';
    throw new BridgeError('E_BUILD_FAILED', `the kernel did not build: ${head} (full log: ${r.log})${rest}`);
  }
  return { progress: progress.snapshot, interrupted: false };
}
