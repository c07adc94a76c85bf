/**
 * What the agent does for each step the runner hands out (insmod, rmmod,
 * filter_glob, a debugfs re-run, a file write), and the marker records that
 * fence a step in the kernel log. The guest's file system and processes come
 * in as {@link GuestOps}, so the steps run against a fake in unit tests.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { AgentStep, StepOutcome } from './protocol.js';

/** KUnit's debugfs directory: `SUITE/run` re-runs a suite. */
export const KUNIT_DEBUGFS = '/sys/kernel/debug/kunit';
/** The module parameter that filters suites (also those of later insmods). */
export const FILTER_GLOB = '/sys/module/kunit/parameters/filter_glob';

/** A command's exit status (0: success) and its output, trimmed (or the error's message). */
export interface ExecResult {
  status: number;
  note: string;
}

/** The guest's file system and processes, as the steps use them. */
export interface GuestOps {
  exists(path: string): boolean;
  writeFile(path: string, data: string): Promise<void>;
  exec(cmd: string, argv: readonly string[]): Promise<ExecResult>;
}

/** Run `cmd` without a shell; never rejects. */
export const execute = (cmd: string, argv: readonly string[]): Promise<ExecResult> =>
  new Promise((resolve) => {
    execFile(cmd, argv, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ status, note: `${stdout}${stderr}`.trim() || (err && status !== 0 ? err.message : '') });
    });
  });

/** The real guest. */
export const guestOps: GuestOps = {
  exists: existsSync,
  writeFile: (path, data) => writeFile(path, data),
  exec: execute,
};

/** Do one step. Never rejects: a failure is a status and a note; a missing target also says `missing`. */
export async function perform(step: AgentStep, ops: GuestOps): Promise<Omit<StepOutcome, 'ms'>> {
  try {
    switch (step.op) {
      case 'insmod':
        if (!ops.exists(step.path)) return { status: 1, missing: true, note: `${step.path}: no such file in the guest` };
        return await ops.exec('insmod', [step.path]);
      case 'rmmod':
        return await ops.exec('rmmod', [step.name]);
      case 'filter_glob':
        // No newline: the parameter is a charp, and "glob\n" would match nothing.
        await ops.writeFile(FILTER_GLOB, step.value);
        return { status: 0 };
      case 'run': {
        const run = `${KUNIT_DEBUGFS}/${step.suite}/run`;
        if (!ops.exists(run)) return { status: 1, missing: true, note: `${run} does not exist` };
        await ops.writeFile(run, 'run\n'); // returns when the suite has run; the reader keeps streaming meanwhile
        return { status: 0 };
      }
      case 'write':
        if (!ops.exists(step.path)) return { status: 1, missing: true, note: `${step.path} does not exist` };
        await ops.writeFile(step.path, step.value);
        return { status: 0 };
    }
  } catch (e) {
    return { status: 1, note: (e as Error).message };
  }
}

/** The outcome the runner is told: the note cut to 700 characters. */
export function outcomeOf(r: Omit<StepOutcome, 'ms'>, ms: number): StepOutcome {
  return { ...r, ms, ...(r.note ? { note: r.note.slice(0, 700) } : {}) };
}

/** The markers (after MARKER_PREFIX) that fence step `id` in the kernel log; the end's note is cut to 300 characters. */
export const beginMarker = (id: number, what: string): string => `step ${id} begin ${what}`;
export const endMarker = (id: number, outcome: StepOutcome): string =>
  `step ${id} end status=${outcome.status} ms=${outcome.ms}${outcome.note ? ` ${JSON.stringify(outcome.note.slice(0, 300))}` : ''}`;
/** The marker after the last step. */
export const doneMarker = (steps: number): string => `done steps=${steps}`;
