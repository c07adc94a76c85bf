/**
 * Errors that reach the user: a stable code, the layer that failed, the exit
 * code, and a one-line message that says what to do (docs/errors.md).
 */
import { readFileSync } from 'node:fs';
import { ExitCode } from './exit-codes.js';

export type ErrorLayer = 'cli' | 'input' | 'parser' | 'reporter' | 'qemu' | 'transport' | 'live' | 'ssh' | 'build';

/**
 * Every error code, its layer and exit code: the one table (docs/errors.md
 * lists the same rows, and test/runner/errors.test.ts keeps them in step).
 */
export const ERROR_CODES = {
  E_USAGE: { layer: 'cli', exit: ExitCode.USAGE },
  E_INPUT: { layer: 'input', exit: ExitCode.USAGE },
  E_KNOWN_FILE: { layer: 'input', exit: ExitCode.USAGE },
  E_RESULTS_FILE: { layer: 'input', exit: ExitCode.USAGE },
  E_RESULTS_VERSION: { layer: 'input', exit: ExitCode.USAGE },
  E_MERGE: { layer: 'input', exit: ExitCode.USAGE },
  E_TIMINGS: { layer: 'input', exit: ExitCode.USAGE },
  E_REPORT_WRITE: { layer: 'reporter', exit: ExitCode.USAGE },
  E_OUTPUT_DIR: { layer: 'reporter', exit: ExitCode.USAGE },
  E_LOG_WRITE: { layer: 'reporter', exit: ExitCode.USAGE },
  E_NO_KERNEL: { layer: 'cli', exit: ExitCode.USAGE },
  E_WRONG_ARCH: { layer: 'cli', exit: ExitCode.USAGE },
  E_KERNEL_UNREADABLE: { layer: 'qemu', exit: ExitCode.INFRA },
  E_QEMU_MISSING: { layer: 'qemu', exit: ExitCode.INFRA },
  E_QEMU_EXEC: { layer: 'qemu', exit: ExitCode.INFRA },
  E_QEMU_FAILED: { layer: 'qemu', exit: ExitCode.INFRA },
  E_AGENT_FILES: { layer: 'cli', exit: ExitCode.INFRA },
  E_LIVE_LISTEN: { layer: 'live', exit: ExitCode.INFRA },
  E_LIVE_AUTH: { layer: 'live', exit: ExitCode.USAGE },
  E_LIVE_HTTP: { layer: 'live', exit: ExitCode.INFRA },
  E_LIVE_LOST: { layer: 'live', exit: ExitCode.INFRA },
  E_LIVE_PROTOCOL: { layer: 'live', exit: ExitCode.PROTOCOL },
  E_SSH_HOST_UNKNOWN: { layer: 'ssh', exit: ExitCode.HOST_KEY_UNKNOWN },
  E_SSH_HOST_CHANGED: { layer: 'ssh', exit: ExitCode.HOST_KEY_CHANGED },
  E_SSH_AUTH: { layer: 'ssh', exit: ExitCode.AUTH_FAILED },
  E_SSH_UNREACHABLE: { layer: 'ssh', exit: ExitCode.INFRA },
  E_SSH_PREFLIGHT: { layer: 'ssh', exit: ExitCode.INFRA },
  E_SSH_UPLOAD: { layer: 'ssh', exit: ExitCode.INFRA },
  E_NOT_KERNEL_TREE: { layer: 'build', exit: ExitCode.USAGE },
  E_KUNITCONFIG: { layer: 'build', exit: ExitCode.USAGE },
  E_KCONFIG_CONFLICT: { layer: 'build', exit: ExitCode.USAGE },
  E_KCONFIG_UNMET: { layer: 'build', exit: ExitCode.USAGE },
  E_TOOLCHAIN_MISSING: { layer: 'build', exit: ExitCode.INFRA },
  E_RUST_UNAVAILABLE: { layer: 'build', exit: ExitCode.INFRA },
  E_BUILD_FAILED: { layer: 'build', exit: ExitCode.BUILD_FAILED },
} as const satisfies Record<string, { layer: ErrorLayer; exit: ExitCode }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class BridgeError extends Error {
  readonly code: ErrorCode;
  readonly layer: ErrorLayer;
  readonly exitCode: ExitCode;

  /** An error of `code` (its layer and exit code come from {@link ERROR_CODES}); `message` is one line saying what to do. */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BridgeError';
    this.code = code;
    this.layer = ERROR_CODES[code].layer;
    this.exitCode = ERROR_CODES[code].exit;
  }
}

/** Read a text input file (a known file, a results.json); unreadable → E_INPUT, exit 2, naming `what`. */
export function readInputText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new BridgeError('E_INPUT', `cannot read ${what} ${path}: ${describeReadError(err)}`, { cause: err });
  }
}

/** Why a file could not be read, in a few words (`no such file`, `permission denied`, …). */
export function describeReadError(err: unknown, isDir = 'it is a directory'): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return isDir;
    default:
      return e.message;
  }
}

/** Turn an fs error on an input file into a one-line BridgeError. */
export function inputError(path: string, err: unknown): BridgeError {
  return new BridgeError('E_INPUT', `cannot read ${path}: ${describeReadError(err)} (give a saved console log, or - for stdin)`, {
    cause: err,
  });
}

/** Why a file or directory could not be written, in words that say what to do (`advice`). */
export function describeFsError(err: unknown, advice = 'choose a writable directory'): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return 'a file is in the way (that path or a parent of it is not a directory)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${advice})`;
    case 'EISDIR':
      return 'that path is a directory (give a file name)';
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the device (${advice})`;
    case 'EROFS':
      return `read-only file system (${advice})`;
    case 'ELOOP':
      return 'a symlink is in the way (remove it, or choose another path)';
    default:
      return e.message;
  }
}
