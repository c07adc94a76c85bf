/** What a command was asked to gate with; no imports, so the CLI can read it without loading the gate. */

/** `--known`, `--baseline`, `--strict-known`. */
export interface GateRequest {
  /** `--known FILE`. */
  known?: string;
  /** `--baseline RESULTS.json`. */
  baseline?: string;
  /** `--strict-known`: stale entries fail the run. */
  strictKnown?: boolean;
}

/** True when the request asks for a gate at all. */
export function wantsGate(req: GateRequest | undefined): req is GateRequest {
  return req !== undefined && (req.known !== undefined || req.baseline !== undefined);
}

/** `GITHUB_ACTIONS=true`: print annotations. */
export function githubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['GITHUB_ACTIONS'] === 'true';
}
