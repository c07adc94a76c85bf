#!/usr/bin/env node
/**
 * The `kunit-bridge` executable: the only module with side effects on load.
 * Everything else (runner/cli.ts included) can be imported without running.
 */
import { main } from './cli.js';
import { guardConsoleStreams } from './stdout.js';

// `kunit-bridge … | head`: a closed pipe silences the console, nothing else (runner/stdout.ts).
guardConsoleStreams();

main(process.argv).then((code) => {
  process.exitCode = code;
});
