/**
 * Errors that reach the user: a stable code, the layer that failed, the exit
 * code, and a one-line message that says what to do (docs/errors.md).
 */
import { readFileSync } from 'node:fs';
import { ExitCode } from './exit-codes.js';

export type ErrorLayer = 'cli' | 'input' | 'parser' | 'reporter' | 'qemu' | 'transport' | 'live' | 'ssh';

export class BridgeError extends Error {
  readonly code: string;
  readonly layer: ErrorLayer;
  readonly exitCode: ExitCode;

  constructor(code: string, layer: ErrorLayer, exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BridgeError';
    this.code = code;
    this.layer = layer;
    this.exitCode = exitCode;
  }
}

/** Read a text input file (a known file, a results.json); unreadable → E_INPUT, exit 2, naming `what`. */
export function readInputText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new BridgeError('E_INPUT', 'input', ExitCode.USAGE,
      `cannot read ${what} ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.message}`, { cause: err });
  }
}

/** Turn an fs error on an input file into a one-line BridgeError. */
export function inputError(path: string, err: unknown): BridgeError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOENT' ? 'no such file'
    : e.code === 'EACCES' ? 'permission denied'
      : e.code === 'EISDIR' ? 'it is a directory'
        : e.message;
  return new BridgeError('E_INPUT', 'input', ExitCode.USAGE,
    `cannot read ${path}: ${why} (give a saved console log, or - for stdin)`, { cause: err });
}
