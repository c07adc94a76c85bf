/**
 * The in-guest agent's entry, started by agent/init.sh on the host's Node
 * through the 9p share:
 *
 *   node main.js --host 10.0.2.2 --port P --token-file F
 *
 * The only module of the agent that does anything on import: it runs
 * agent/agent.ts and exits with its code (init then ends the guest).
 */
import { parseArgs } from './args.js';
import { runAgent } from './agent.js';

// No top-level await: the same file is also compiled to CommonJS for the bundle (scripts/bundle-agent.mjs).
void runAgent(parseArgs(process.argv.slice(2))).then((code) => process.exit(code));
