/** `--known`, `--strict-known`, `--baseline` (docs/gating.md), shared by parse, run, merge and compare. */
import type { Command } from 'commander';
import type { GateRequest } from '../gate/request.js';

export interface GateFlags {
  known?: string;
  strictKnown?: boolean;
  baseline?: string;
}

export function addGateOptions(cmd: Command, what: string, withBaseline = true): Command {
  cmd
    .option('--known <file>', `known failures (YAML): they do not fail the ${what} (docs/gating.md)`)
    .option('--strict-known', `stale --known entries (matching no failing test) fail the ${what}`);
  if (withBaseline) cmd.option('--baseline <results.json>', 'compare with an earlier run: only regressions and new failures fail it');
  return cmd;
}

export function gateRequest(flags: GateFlags): GateRequest {
  return {
    ...(flags.known !== undefined ? { known: flags.known } : {}),
    ...(flags.baseline !== undefined ? { baseline: flags.baseline } : {}),
    strictKnown: flags.strictKnown === true,
  };
}
