/**
 * Commands on the target, each on an exec channel of the connection, each
 * logged with its exit status in `target.log`. A command's PID comes first
 * on its stderr, so it can be killed over a second channel: closing a
 * channel does not stop a remote process (it lives on, reparented to init).
 */
import { appendFileSync } from 'node:fs';
import type { Client, ClientChannel } from 'ssh2';

/** Quote a word for a POSIX shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const PID_LINE = /^kunit-bridge-pid (\d+)\n/;

export interface CommandResult {
  /** Exit status; null when the channel ended without one (connection lost, killed). */
  status: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  pid?: number;
  ms: number;
}

export interface Streaming {
  /** The remote PID, once known. */
  pid: Promise<number | undefined>;
  /** Ends with the command (or the channel). */
  done: Promise<CommandResult>;
  close(): void;
}

/** target.log: every command and what came of it. */
export class TargetLog {
  private readonly t0 = Date.now();
  constructor(private readonly path: string) {
    appendFileSync(path, '');
  }

  note(text: string): void {
    appendFileSync(this.path, `[+${((Date.now() - this.t0) / 1000).toFixed(3)} s] ${text}\n`);
  }

  command(cmd: string, r: CommandResult, showOutput: boolean): void {
    const status =
      r.status === null ? `no exit status${r.signal ? ` (signal ${r.signal})` : ' (channel lost)'}` : `exit status ${r.status}`;
    let text = `$ ${cmd}\n`;
    if (showOutput && r.stdout) text += r.stdout.replace(/\n?$/, '\n');
    if (r.stderr) text += r.stderr.replace(/^/gm, '(stderr) ').replace(/\n?$/, '\n');
    this.note(`${text}[${status}, ${(r.ms / 1000).toFixed(2)} s${r.pid ? `, pid ${r.pid}` : ''}]`);
  }
}

export class Remote {
  constructor(
    private client: Client,
    private readonly log: TargetLog,
  ) {}

  /** A new connection after a reconnect. */
  use(client: Client): void {
    this.client = client;
  }

  /** Start `cmd` (sh syntax) and stream its stdout; the PID is read off its stderr. */
  stream(cmd: string, onStdout: (chunk: Buffer) => void, opts: { logOutput?: boolean } = {}): Streaming {
    const started = Date.now();
    let setPid: (pid: number | undefined) => void = () => undefined;
    const pid = new Promise<number | undefined>((r) => {
      setPid = r;
    });
    let channel: ClientChannel | undefined;
    const done = new Promise<CommandResult>((resolve) => {
      const wrapped = `echo "kunit-bridge-pid $$" >&2; exec sh -c ${shellQuote(cmd)}`;
      let stdout = '';
      let stderr = '';
      let pidSeen = false;
      let known: number | undefined;
      const finish = (status: number | null, signal?: string): void => {
        setPid(known);
        const r: CommandResult = {
          status,
          stdout,
          stderr,
          ms: Date.now() - started,
          ...(signal ? { signal } : {}),
          ...(known ? { pid: known } : {}),
        };
        this.log.command(cmd, r, opts.logOutput ?? true);
        resolve(r);
      };
      try {
        this.client.exec(wrapped, (err, ch) => {
          if (err) {
            stderr += err.message;
            finish(null);
            return;
          }
          channel = ch;
          let status: number | null = null;
          let signal: string | undefined;
          ch.on('exit', (code: number | null, sig?: string) => {
            status = code;
            signal = sig ?? undefined;
          });
          ch.on('data', (d: Buffer) => {
            if (opts.logOutput ?? true) stdout += d.toString('utf8');
            onStdout(d);
          });
          ch.stderr.on('data', (d: Buffer) => {
            stderr += d.toString('utf8');
            if (!pidSeen) {
              const m = PID_LINE.exec(stderr);
              if (m) {
                pidSeen = true;
                known = Number(m[1]);
                stderr = stderr.slice(m[0].length);
                setPid(known);
              }
            }
          });
          ch.on('close', () => finish(status, signal));
        });
      } catch (err) {
        stderr += (err as Error).message;
        finish(null);
      }
    });
    return {
      pid,
      done,
      close: () => {
        channel?.close();
      },
    };
  }

  /** Run `cmd` to the end; its output is kept (and logged). */
  run(cmd: string): Promise<CommandResult> {
    return this.stream(cmd, () => undefined).done;
  }

  /**
   * Kill remote commands by PID, over a channel of their own: TERM to the command and its process
   * group (sshd makes each session's command a group leader: a pipeline goes with it), then KILL
   * whatever is left after a second.
   */
  async kill(pids: readonly number[]): Promise<void> {
    const list = pids
      .filter((p) => p > 1)
      .flatMap((p) => [`-${p}`, String(p)])
      .join(' ');
    if (!list) return;
    await this.run(
      `kill -TERM ${list} 2>/dev/null; for i in 1 2 3 4 5; do kill -0 ${list} 2>/dev/null || exit 0; sleep 0.2; done; kill -KILL ${list} 2>/dev/null; true`,
    );
  }
}
