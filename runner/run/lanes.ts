/**
 * The lanes, run: `-j` workers take the planned lanes in order, each boots
 * its lane with the KUnit parameters and agent options made for it.
 */
import type { RunResult } from '../ktap/model.js';
import type { KunitParams } from '../qemu/argv.js';
import type { RunRequest } from '../run-request.js';
import type { SessionResult } from '../session.js';
import type { Lane } from '../shard.js';
import type { AgentOptions, Booter } from './boot.js';
import { loadReportModules } from './report-modules.js';
import type { KernelLists } from './plan.js';

/** The glob a module-only lane boots with: it matches no suite, so only the modules' tests run. */
export const NO_SUITE_GLOB = 'kunit-bridge-no-builtin-suites';

export interface LaneResult {
  lane: number;
  result: RunResult;
  session?: SessionResult;
}

function joinFilters(...f: (string | undefined)[]): string | undefined {
  const parts = f.filter((x): x is string => x !== undefined && x !== '');
  return parts.length ? parts.join(',') : undefined;
}

/** What a lane boots with: the user's parameters as they are for a single boot, else the lane's glob and filter too. */
export function laneKunit(lane: Lane, single: boolean, req: RunRequest, user: KunitParams): KunitParams {
  if (single && !req.runIsolated) return user;
  if (lane.modulesOnly) return { ...user, filterGlob: NO_SUITE_GLOB };
  return { ...user, filterGlob: lane.filterGlob ?? req.filterGlob, filter: joinFilters(req.filterAttr, lane.filter) };
}

/** A lane that booted with a glob of its own gives the modules the user's back. */
export function laneAgentOptions(lane: Lane, req: RunRequest): AgentOptions {
  return lane.modulesOnly || (lane.filterGlob !== undefined && lane.filterGlob !== req.filterGlob)
    ? { resetGlob: req.filterGlob ?? '*' }
    : {};
}

export function laneLogName(lane: Lane, single: boolean): string {
  return single ? 'console.log' : `console-lane-${String(lane.index + 1).padStart(2, '0')}.log`;
}

/** Runs the lanes on `jobs` workers (none started once the run is stopped); the results in lane order. */
export async function runLanes(o: {
  req: RunRequest;
  lanes: Lane[];
  jobs: number;
  single: boolean;
  useAgent: boolean;
  user: KunitParams;
  booter: Booter;
  lists: KernelLists;
}): Promise<LaneResult[]> {
  const { req, lanes, single } = o;
  const laneResults: LaneResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lanes.length && !req.signal?.aborted) {
      const lane = lanes[next++]!;
      const booting = o.booter.boot(
        laneLogName(lane, single),
        laneKunit(lane, single, req, o.user),
        lane.index,
        o.useAgent ? laneAgentOptions(lane, req) : undefined,
      );
      // While QEMU boots: load the report writers and hash the image for the timing cache.
      void loadReportModules();
      o.lists.kernelKey();
      const s = await booting;
      laneResults.push({ lane: lane.index, result: s.result, session: s });
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, lanes.length) }, () => worker()));
  return laneResults.sort((a, b) => a.lane - b.lane);
}
