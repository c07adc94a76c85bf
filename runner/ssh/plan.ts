/**
 * The steps a run does on a live kernel, in order, and the shell each one
 * runs between two marker records in /dev/kmsg (the agent's markers, so one
 * kernel log reads the same whichever way it was made). Pure.
 *
 *   1. --guest-write files
 *   2. --filter: re-run the matching suites (each a document)
 *   3. --modules: (with --filter, set filter_glob first) insmod each (its suites run at once)
 *   4. --repeat N: attempts 2..N of every suite seen, through debugfs
 *   5. rmmod the modules, put filter_glob back
 */
import type { AgentStep } from '../../agent/protocol.js';
import { describeStep, MARKER_PREFIX } from '../../agent/protocol.js';
import { FILTER_GLOB, KUNIT_DEBUGFS } from './preflight.js';
import { shellQuote } from './remote.js';

/** A step on the target: the agent's, plus a `--filter` re-run that is a document of its own. */
export type SshStep = AgentStep | { op: 'rerun'; suite: string };

export interface PlannedStep {
  id: number;
  step: SshStep;
  /** For `run`: the attempt (2..N). */
  attempt?: number;
}

export interface PlanOptions {
  writes: readonly (readonly [string, string])[];
  /** Suites to re-run for --filter (already matched). */
  reruns: readonly string[];
  /** Set filter_glob to this before the modules (--filter with --modules); `restoreGlob` puts it back. */
  moduleGlob?: string;
  restoreGlob?: string;
  /** Remote paths of the modules to load, with their module names. */
  modules: readonly { path: string; name: string }[];
  repeat: number;
  /** Whether a suite may be repeated (e.g. it matches --filter). */
  repeatable?: (suite: string) => boolean;
}

/** Hands out steps one at a time; the suites to repeat are learnt from the run (`suiteSeen`). */
export class StepPlan {
  private readonly queue: SshStep[] = [];
  private readonly suites: string[] = [];
  private repeatsPlanned = false;
  private tailPlanned = false;
  private nextId = 1;

  private modules: { path: string; name: string }[] = [];

  constructor(private readonly opts: PlanOptions) {
    for (const [path, value] of opts.writes) this.queue.push({ op: 'write', path, value });
    for (const suite of opts.reruns) this.queue.push({ op: 'rerun', suite });
    this.addModules(opts.modules);
  }

  /** Modules to load (staged while the boot's log streams in); before the first `next()`. */
  addModules(modules: readonly { path: string; name: string }[]): void {
    if (modules.length === 0) return;
    if (this.opts.moduleGlob !== undefined && this.modules.length === 0)
      this.queue.push({ op: 'filter_glob', value: this.opts.moduleGlob });
    for (const m of modules) this.queue.push({ op: 'insmod', path: m.path });
    this.modules.push(...modules);
  }

  /** A top-level suite finished (boot or module): it is repeated with --repeat. */
  suiteSeen(name: string): void {
    if (!this.repeatsPlanned && !this.suites.includes(name)) this.suites.push(name);
  }

  next(): PlannedStep | undefined {
    let step = this.queue.shift();
    let attempt: number | undefined;
    if (!step && !this.repeatsPlanned) {
      this.repeatsPlanned = true;
      const repeatable = this.opts.repeatable ?? (() => true);
      for (let a = 2; a <= this.opts.repeat; a++) {
        for (const suite of this.suites) if (repeatable(suite)) this.repeats.push({ suite, attempt: a });
      }
    }
    if (!step) {
      const r = this.repeats.shift();
      if (r) {
        step = { op: 'run', suite: r.suite };
        attempt = r.attempt;
      }
    }
    if (!step && !this.tailPlanned) {
      this.tailPlanned = true;
      for (const m of this.modules) this.queue.push({ op: 'rmmod', name: m.name });
      if (this.opts.moduleGlob !== undefined && this.modules.length > 0 && this.opts.restoreGlob !== undefined) {
        this.queue.push({ op: 'filter_glob', value: this.opts.restoreGlob });
      }
      step = this.queue.shift();
    }
    if (!step) return undefined;
    return { id: this.nextId++, step, ...(attempt ? { attempt } : {}) };
  }

  /** Drop the repeats of a suite that has no debugfs run file. */
  noRunFile(suite: string): void {
    for (let i = this.repeats.length - 1; i >= 0; i--) if (this.repeats[i]!.suite === suite) this.repeats.splice(i, 1);
  }

  private readonly repeats: { suite: string; attempt: number }[] = [];
}

export function describeSshStep(step: SshStep): string {
  return step.op === 'rerun' ? `rerun ${step.suite}` : describeStep(step);
}

/** The output line a step prints when its target does not exist. */
export const MISSING = 'kunit-bridge-missing';

function action(step: SshStep): string {
  const missing = (p: string): string => `[ -e ${shellQuote(p)} ] || { echo "${MISSING}: ${p} does not exist"; exit 2; }`;
  switch (step.op) {
    case 'write':
      return `${missing(step.path)}; printf '%s' ${shellQuote(step.value)} > ${shellQuote(step.path)}`;
    case 'filter_glob':
      return `printf '%s' ${shellQuote(step.value)} > ${FILTER_GLOB}`;
    case 'run':
    case 'rerun': {
      const run = `${KUNIT_DEBUGFS}/${step.suite}/run`;
      return `${missing(run)}; echo 1 > ${shellQuote(run)}`;
    }
    case 'insmod':
      return `insmod ${shellQuote(step.path)}`;
    case 'rmmod':
      return `rmmod ${shellQuote(step.name)}`;
  }
}

/**
 * Markers carry the run's id, `kunit-bridge: run ID step N begin WHAT`, so the steps of earlier
 * runs on the same boot (the log holds them too) are told from this run's.
 */
export function markerPrefix(runId: string): string {
  return `${MARKER_PREFIX}run ${runId} `;
}
/** Any run's marker: the run id, then the rest. */
export const RUN_MARKER = new RegExp(`^${MARKER_PREFIX}run ([0-9a-f]+) (.*)$`);
export const BEGIN_MARKER = /^step (\d+) begin /;
export const END_MARKER = /^step (\d+) end status=(\d+) ms=(\d+)(?: (.*))?$/;
export const SYNC_MARKER = /^sync (\d+)$/;

/**
 * The shell of one step: begin marker, the action (its output kept), end marker with status,
 * time and output, and only then the output on stdout (the channel may be gone by then).
 */
export function stepScript(p: PlannedStep, runId: string): string {
  const prefix = markerPrefix(runId);
  // Shell builtins only, but for the action itself: every fork costs under emulation and on small boards.
  return [
    `echo "<14>${prefix}step ${p.id} begin ${describeSshStep(p.step).replace(/["\\$`]/g, '')}" > /dev/kmsg`,
    'read t0 x < /proc/uptime',
    `out=$( { ${action(p.step)}; } 2>&1 ); s=$?`,
    'read t1 x < /proc/uptime',
    'ms=$(( (${t1%.*} - ${t0%.*}) * 1000 + (1${t1#*.} - 1${t0#*.}) * 10 ))',
    "nl='",
    "'",
    'note=${out%%"$nl"*}',
    `echo "<14>${prefix}step ${p.id} end status=$s ms=$ms $note" > /dev/kmsg`,
    'printf "%s\\n" "$out"',
    'exit $s',
  ].join('\n');
}

/** The command that writes a sync marker. */
export function syncScript(n: number, runId: string): string {
  return `echo "<14>${markerPrefix(runId)}sync ${n}" > /dev/kmsg`;
}
