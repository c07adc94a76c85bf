/**
 * The recorded agent run (test/fixtures/agent/): the serial console and the
 * agent's lines of one `run --repeat 3` of the x86_64-rust-kunit-v2 kernel
 * with its 4 test modules loaded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './corpus.js';

const DIR = join(REPO, 'test/fixtures/agent');

/** The console log as QEMU wrote it (CRLF line ends). */
export const readConsoleText = (): string => readFileSync(join(DIR, 'modules-repeat3-console.log'), 'utf8');

function lines(text: string): string[] {
  const out = text.split(/\r?\n/);
  if (out.at(-1) === '') out.pop();
  return out;
}

/** The console's lines, without line ends. */
export const readConsoleLines = (): string[] => lines(readConsoleText());
/** The lines the agent sent (its records rendered as console lines). */
export const readAgentLines = (): string[] => lines(readFileSync(join(DIR, 'modules-repeat3-agent.log'), 'utf8'));
