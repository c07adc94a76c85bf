/**
 * The console's own streams. A stdout that goes away (`run … | head -1`:
 * EPIPE; a terminal hung up: EIO) silences the console and changes nothing
 * else: the run goes on, every report is written, the exit code is the run's.
 */

/** Errors that mean "nobody reads this stream any more". */
const GONE: ReadonlySet<string | undefined> = new Set(['EPIPE', 'EIO', 'ECONNRESET']);

let stdoutGone = false;

/** Write to stdout unless it has gone away. */
export function writeStdout(data: string | Uint8Array): void {
  if (!stdoutGone) process.stdout.write(data);
}

/**
 * Take a closed stdout or stderr as silence, not as an error (the CLI installs
 * this once). Any other stream error still surfaces.
 */
export function guardConsoleStreams(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!GONE.has(err.code)) throw err;
    stdoutGone = true;
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (!GONE.has(err.code)) throw err;
  });
}

/** The default warning sink of every command: one line on stderr, `kunit-bridge: <message>`. */
export function warnStderr(message: string): void {
  process.stderr.write(`kunit-bridge: ${message}\n`);
}
