/**
 * The gate's entry points for commands: read `--known` and `--baseline`
 * before anything runs (a bad file is exit 2 before QEMU starts), then
 * {@link finishGate} applies them to the finished result and prints. See
 * gate.ts for the rules. Loaded only when a command gates or annotates
 * (it pulls in the `yaml` package).
 */
import type { GateOptions } from './gate.js';
import { loadKnownFile } from './known.js';
import type { GateRequest } from './request.js';
import { readResultsFile } from './results-file.js';

export { applyGate, type GateOptions } from './gate.js';
export { finishGate } from './finish.js';
export type { GateOutcome } from './outcome.js';
export { wantsGate, type GateRequest } from './request.js';

/** Read the files of a request (throws BridgeError, exit 2, on a bad one). */
export function loadGate(req: GateRequest): GateOptions {
  const opts: GateOptions = { strictKnown: req.strictKnown === true };
  if (req.known !== undefined) {
    opts.known = loadKnownFile(req.known);
    opts.knownFile = req.known;
  }
  if (req.baseline !== undefined) {
    opts.baseline = readResultsFile(req.baseline);
    opts.baselineFile = req.baseline;
  }
  return opts;
}
