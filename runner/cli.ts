/**
 * The command line: a thin commander shell. It builds a typed request, calls
 * the library function, and maps the outcome to an exit code in one place
 * (runner/exit-codes.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { parseCommand } from './commands/parse.js';
import type { RunOutcome } from './commands/run.js';
import { ExitCode, exitCodeFor, exitCodeForSignal } from './exit-codes.js';
import { BridgeError } from './errors.js';
import { writeStdout } from './stdout.js';
import { shouldColor } from '../reporters/console.js';
import type { ReportRequest } from './reports.js';
import { parseShardSpec, type ShardSpec } from './shard-plan.js';
import { githubActions, type GateRequest } from './gate/request.js';
import { normalizeArch } from './qemu/profiles.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const int = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`${name} must be a whole number >= ${min}, not "${v}"`);
  return n;
};
const seconds = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`${name} must be a number of seconds, not "${v}"`);
  return n;
};
const words = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(/\s+/).filter(Boolean)];
const guestWrite = (v: string, prev: [string, string][] = []): [string, string][] => {
  const eq = v.indexOf('=');
  if (eq <= 0 || !v.startsWith('/')) fail(`--guest-write wants /ABSOLUTE/PATH=VALUE, not "${v}"`);
  return [...prev, [v.slice(0, eq), v.slice(eq + 1)]];
};
const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const origin = (v: string): string => {
  if (!/^[a-z0-9_]+$/.test(v)) fail(`--kcidb-origin must match ^[a-z0-9_]+$ (lower-case letters, digits, _), not "${v}"`);
  return v;
};
const shardSpec = (v: string): ShardSpec => parseShardSpec(v) ?? fail(`--shard wants K/N with 1 <= K <= N (e.g. 2/3), not "${v}"`);

/** The KCIDB options, shared by parse, run and merge. */
function kcidbOptions(cmd: Command): Command {
  return cmd
    .option('--kcidb <file>', 'write KCIDB v5.3 JSON for kcidb-submit (docs/kcidb.md)')
    .option('--kcidb-origin <name>', 'KCIDB origin (^[a-z0-9_]+$)', origin, 'kunit_bridge')
    .option('--kcidb-checkout-id <id>', 'refer to this KCIDB checkout (submitted by the CI) instead of writing one')
    .option('--kcidb-build-id <id>', 'refer to this KCIDB build (submitted by the CI) instead of writing one');
}
const kcidbRequest = (opts: Record<string, unknown>): Pick<ReportRequest, 'kcidb' | 'kcidbOrigin' | 'kcidbCheckoutId' | 'kcidbBuildId'> => ({
  kcidb: opts['kcidb'] as string | undefined, kcidbOrigin: opts['kcidbOrigin'] as string,
  kcidbCheckoutId: opts['kcidbCheckoutId'] as string | undefined, kcidbBuildId: opts['kcidbBuildId'] as string | undefined,
});

function colorFor(opt: unknown): boolean {
  return opt === 'always' ? true : opt === 'never' ? false : shouldColor(process.stdout);
}

/** `--known`, `--baseline`, `--strict-known` of any command. */
function gateRequest(opts: Record<string, unknown>): GateRequest {
  return {
    ...(typeof opts['known'] === 'string' ? { known: opts['known'] } : {}),
    ...(typeof opts['baseline'] === 'string' ? { baseline: opts['baseline'] } : {}),
    strictKnown: opts['strictKnown'] === true,
  };
}

function archOption(v: string): string {
  const a = normalizeArch(v);
  if (!a) fail(`unknown --arch ${v} (use x86_64, arm64 or riscv64)`);
  return a;
}

function fail(message: string): never {
  throw new BridgeError('E_USAGE', 'cli', ExitCode.USAGE, message);
}

/** Build the program; exported for tests. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('kunit-bridge')
    .description('Run the Linux kernel\'s KUnit (and Rust) tests and bridge their KTAP results to JUnit, TAP 14 and JSON.')
    .version(pkg.version)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`kunit-bridge: ${s.replace(/^error: /, '').trim()} (see kunit-bridge --help)\n`),
    })
    .addHelpText('after', `
Exit codes:
  0  every test passed or was skipped
  1  a test failed (with --known/--baseline: one not known, a regression, a new failure)
  2  usage or input error (bad flag, missing file, bad known file or results.json)
  3  the run did not complete (kernel crashed, output cut short, no KTAP found, no tests ran)
  4  infrastructure failure (QEMU missing or failing; an SSH target unreachable or lost)
  5  watch: the feed broke the live protocol
  6  --target: the host key is not known   7  it changed   8  login failed
  129/130/143  run interrupted by SIGHUP/SIGINT/SIGTERM (partial reports written)

Example:
  kunit-bridge parse boot.log --junit junit.xml --kunit-json results.json`);

  kcidbOptions(program
    .command('parse'))
    .description('parse a saved kernel console log (a file, or - for stdin) and write reports')
    .argument('[file]', 'console log to read, - for stdin', '-')
    .option('--junit <file>', 'write JUnit XML')
    .option('--junit-locations', 'add file/line attributes from Rust doctest locations to JUnit test cases')
    .option('--tap <file>', 'write TAP 14')
    .option('--json <file>', 'write kunit-bridge native JSON (docs/json-format.md)')
    .option('--kunit-json <file>', 'write the JSON of `kunit.py parse --json` (KernelCI)')
    .option('--markdown <file>', 'write a short Markdown summary (for $GITHUB_STEP_SUMMARY)')
    .option('--known <file>', 'known failures (YAML): they do not fail the run (docs/gating.md)')
    .option('--strict-known', 'stale --known entries (matching no failing test) fail the run')
    .option('--baseline <results.json>', 'compare with an earlier run: only regressions and new failures fail it')
    .option('--arch <arch>', 'the log\'s architecture, for --known entries limited to some')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--color <when>', 'colour the summary').choices(['auto', 'always', 'never']).default('auto'));
  program.commands.at(-1)!
    .action(async (file: string, opts: Record<string, string | boolean | undefined>) => {
      if (file === '-' && process.stdin.isTTY) fail('no input: give a console log file, or pipe one to stdin');
      const color = opts['color'] === 'always' ? true : opts['color'] === 'never' ? false : shouldColor(process.stdout);
      const result = await parseCommand({
        input: file,
        quiet: opts['quiet'] === true,
        color,
        write: writeStdout,
        reports: {
          junit: opts['junit'] as string | undefined,
          tap: opts['tap'] as string | undefined,
          json: opts['json'] as string | undefined,
          kunitJson: opts['kunitJson'] as string | undefined,
          markdown: opts['markdown'] as string | undefined,
          junitLocations: opts['junitLocations'] === true,
          ...kcidbRequest(opts),
        },
        gate: gateRequest(opts),
        ...(opts['arch'] !== undefined ? { arch: archOption(String(opts['arch'])) } : {}),
        annotate: githubActions(),
      });
      setExit(exitCodeFor(result.verdict));
    });
  kcidbOptions(program
    .command('run'))
    .description('boot a kernel with KUnit tests in QEMU, show results live, write the raw console log and reports')
    .option('--kernel <path>', 'kernel image (default: .kunit/arch/<arch>/boot/…, then arch/<arch>/boot/… in the current directory)')
    .addOption(new Option('--arch <arch>', 'architecture: x86_64, arm64, riscv64 (default: the host\'s)'))
    .option('--qemu <path>', 'QEMU binary (default: qemu-system-<arch> on PATH)')
    .option('--qemu-args <args>', 'extra QEMU arguments (space-separated; repeatable)', words)
    .option('--memory <MiB>', 'guest memory', int('--memory', 64), 1024)
    .option('--smp <n>', 'guest CPUs', int('--smp', 1), 1)
    .option('--initrd <path>', 'initramfs for the guest')
    .option('--append <args>', 'extra kernel command line (repeatable)', words)
    .addOption(new Option('--accel <accel>', 'accelerator; auto falls back to TCG when KVM does not boot').choices(['auto', 'kvm', 'tcg']).default('auto'))
    .option('--filter <glob>', 'run only suites/tests matching suite[.test] (kunit.filter_glob)')
    .option('--filter-attr <expr>', 'attribute filter, e.g. "speed>slow" or "module!=x" (kunit.filter)')
    .addOption(new Option('--filter-action <action>', 'report filtered-out tests as skipped').choices(['skip']))
    .option('--list', 'list the suites and tests instead of running them')
    .option('--timeout <seconds>', 'stop the whole run after this long (0: never)', seconds('--timeout'), 0)
    .option('--stall-timeout <seconds>', 'no KTAP progress for this long means the kernel hung (0: never)', seconds('--stall-timeout'), 120)
    .addOption(new Option('--run-isolated <unit>', 'one boot per suite or per test').choices(['suite', 'test']))
    .option('-j, --jobs <n>', 'QEMU instances at once (default: the number of cores)', int('--jobs', 1))
    .option('--shard <K/N>', 'run the K-th of N parts of the tests (the same split on every machine; then `merge`)', shardSpec)
    .option('--timings <file>', 'balance --shard with the suite timings in FILE (written by --save-timings; default: a guess)')
    .option('--save-timings <file>', 'write the suite timings of this run to FILE, for --timings')
    .option('-o, --output <dir>', 'output directory (default: ./kunit-bridge-out/<timestamp>/)')
    .option('--junit <file>', 'write JUnit XML')
    .option('--junit-locations', 'add file/line attributes from Rust doctest locations to JUnit test cases')
    .option('--tap <file>', 'write TAP 14')
    .option('--json <file>', 'write kunit-bridge native JSON')
    .option('--kunit-json <file>', 'write the JSON of `kunit.py parse --json`')
    .option('--markdown <file>', 'write a short Markdown summary (for $GITHUB_STEP_SUMMARY)')
    .option('--known <file>', 'known failures (YAML): they do not fail the run (docs/gating.md)')
    .option('--strict-known', 'stale --known entries (matching no failing test) fail the run')
    .option('--baseline <results.json>', 'compare with an earlier run: only regressions and new failures fail it')
    .option('--serve <[host:]port>', 'serve a live WebSocket feed and web page (host 127.0.0.1 unless given; 0 = any port)')
    .option('--serve-token <token>', 'token the feed requires (default: none on loopback, a random one elsewhere)')
    .option('--serve-linger <seconds>', 'keep serving this long after the run ends', seconds('--serve-linger'), 2)
    .option('--raw', 'echo the raw console as well')
    .option('--agent', 'run the in-guest agent (host root over 9p, Node in the guest): KTAP over WebSocket, modules, repeats')
    .option('--modules <path>', 'test modules to load in the guest: a directory (searched for *.ko) or a file; repeatable; implies --agent', collect)
    .option('--repeat <n>', 'run every suite N times in one boot (attempts 2..N through debugfs) to expose flaky tests; implies --agent', int('--repeat', 1), 1)
    .option('--guest-write <path=value>', 'write VALUE to PATH in the guest before modules and repeats (e.g. /proc/sys/kernel/panic_on_oops=1); repeatable; implies --agent', guestWrite)
    .option('--agent-node <path>', 'Node binary for the guest, as seen from inside it (default: this one)')
    .option('--agent-timeout <seconds>', 'fall back to the serial console if the agent has not connected after this long', seconds('--agent-timeout'), 60)
    .option('--target <url>', 'run on a live kernel over SSH instead of booting one: ssh://[USER@]HOST[:PORT] (docs/targets.md)')
    .option('--identity <file>', 'with --target: private key to log in with (repeatable; also the SSH agent, and KUNIT_BRIDGE_SSH_PASSWORD)', collect)
    .option('--known-hosts <file>', 'with --target: known_hosts file to verify the host key against (default ~/.ssh/known_hosts)')
    .option('--host-key <fingerprint>', 'with --target: accept only this host key (SHA256:…, as ssh-keygen -lf prints it)')
    .option('--accept-new-host-key', 'with --target: record an unknown host key in --known-hosts (a changed key is still refused)')
    .option('--reconnect-timeout <seconds>', 'with --target: keep reconnecting this long after the connection drops', seconds('--reconnect-timeout'), 30)
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--color <when>', 'colour the output').choices(['auto', 'always', 'never']).default('auto'));
  program.commands.at(-1)!
    .action(async (opts: Record<string, unknown>) => {
      // Loaded here, not at startup: `parse` does not need them (they pull in every reporter).
      const [{ runCommand }, { runView }, { killAllQemu }] = await Promise.all([
        import('./commands/run.js'), import('./commands/run-view.js'), import('./qemu/process.js'),
      ]);
      const ac = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => {
        if (ac.signal.aborted) {
          killAllQemu();
          process.exit(exitCodeForSignal(sig));
        }
        ac.abort(sig);
      };
      // A hang-up (the terminal or SSH session gone) ends the run like SIGTERM: reports written, exit 129.
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
      const view = runView({
        quiet: opts['quiet'] === true, raw: opts['raw'] === true, tty: process.stdout.isTTY === true,
        color: colorFor(opts['color']), write: writeStdout,
      });
      const str = (k: string): string | undefined => opts[k] as string | undefined;
      const say = (line: string): void => { process.stderr.write(`kunit-bridge: ${line}\n`); };
      const live = opts['serve'] === undefined ? undefined
        : await (await import('./live/serve.js')).startLive(String(opts['serve']), str('serveToken'), say);
      let outcome: RunOutcome;
      try {
        outcome = await runCommand({
        kernel: str('kernel'), arch: str('arch'), qemu: str('qemu'), qemuArgs: opts['qemuArgs'] as string[] | undefined,
        memoryMb: opts['memory'] as number, smp: opts['smp'] as number, initrd: str('initrd'),
        append: opts['append'] as string[] | undefined, accel: opts['accel'] as 'auto' | 'kvm' | 'tcg',
        filterGlob: str('filter'), filterAttr: str('filterAttr'), filterAction: opts['filterAction'] as 'skip' | undefined,
        list: opts['list'] === true, timeoutS: opts['timeout'] as number, stallTimeoutS: opts['stallTimeout'] as number,
        runIsolated: opts['runIsolated'] as 'suite' | 'test' | undefined,
        jobs: (opts['jobs'] as number | undefined) ?? availableParallelism(), jobsExplicit: opts['jobs'] !== undefined,
        output: str('output'),
        reports: {
          junit: str('junit'), tap: str('tap'), json: str('json'), kunitJson: str('kunitJson'), markdown: str('markdown'),
          junitLocations: opts['junitLocations'] === true,
          ...kcidbRequest(opts),
        },
        shard: opts['shard'] as ShardSpec | undefined, timingsFile: str('timings'), saveTimings: str('saveTimings'),
        gate: gateRequest(opts),
        agent: opts['agent'] === true, modules: opts['modules'] as string[] | undefined, repeat: opts['repeat'] as number,
        agentNode: str('agentNode'), guestWrites: opts['guestWrite'] as [string, string][] | undefined, agentTimeoutS: opts['agentTimeout'] as number,
        target: str('target'), identities: opts['identity'] as string[] | undefined, knownHosts: str('knownHosts'),
        hostKey: str('hostKey'), acceptNewHostKey: opts['acceptNewHostKey'] === true, reconnectTimeoutS: opts['reconnectTimeout'] as number,
        signal: ac.signal,
        onEvent: live ? (e, lane) => { view.onEvent?.(e, lane); live.onEvent(e, lane); } : view.onEvent,
        onRaw: view.onRaw,
        onPlan: live ? (l, s, m) => { view.onPlan?.(l, s, m); live.onPlan(l, s, m); } : view.onPlan,
      });
      } catch (err) {
        await live?.close(0);
        throw err;
      }
      live?.end(outcome, outcome.exitCode);
      if (outcome.listed) {
        for (const s of outcome.listed) for (const t of s.tests) writeStdout(`${s.name}.${t.name}\n`);
      } else {
        view.finish(outcome);
        if (githubActions()) process.stdout.write((await import('./gate/annotations.js')).githubAnnotations(outcome.result).map((l) => `${l}\n`).join(''));
      }
      // After the summary, which it must not hide: the reports that could be written were.
      if (outcome.reportError) say(outcome.reportError.message);
      setExit(outcome.exitCode);
      // The summary first, then the linger: late watchers still get the whole run.
      await live?.close((opts['serveLinger'] as number) * 1000);
    });
  kcidbOptions(program
    .command('merge')
    .description('merge the results.json of shards, lanes or runs on other architectures into one report')
    .argument('<input...>', 'results.json files, or run output directories holding one')
    .option('--junit <file>', 'write JUnit XML')
    .option('--junit-locations', 'add file/line attributes from Rust doctest locations to JUnit test cases')
    .option('--tap <file>', 'write TAP 14')
    .option('--json <file>', 'write kunit-bridge native JSON')
    .option('--kunit-json <file>', 'write the JSON of `kunit.py parse --json`')
    .option('--markdown <file>', 'write a short Markdown summary (for $GITHUB_STEP_SUMMARY)')
    .option('--known <file>', 'known failures (YAML): they do not fail the merged run (docs/gating.md)')
    .option('--strict-known', 'stale --known entries (matching no failing test) fail the run')
    .option('--baseline <results.json>', 'compare with an earlier run: only regressions and new failures fail it')
    .option('--save-timings <file>', 'write the merged run\'s suite timings to FILE, for run --timings')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--color <when>', 'colour the summary').choices(['auto', 'always', 'never']).default('auto')))
    .action(async (inputs: string[], opts: Record<string, unknown>) => {
      const { mergeCommand } = await import('./commands/merge.js');
      const str = (k: string): string | undefined => opts[k] as string | undefined;
      const result = await mergeCommand({
        inputs, quiet: opts['quiet'] === true, color: colorFor(opts['color']), saveTimings: str('saveTimings'),
        reports: {
          junit: str('junit'), tap: str('tap'), json: str('json'), kunitJson: str('kunitJson'), markdown: str('markdown'),
          junitLocations: opts['junitLocations'] === true, ...kcidbRequest(opts),
        },
        gate: gateRequest(opts), annotate: githubActions(),
      });
      setExit(exitCodeFor(result.verdict));
    });
  program
    .command('compare')
    .description('compare a run\'s results.json with a baseline\'s: regressions and new failures fail (exit 1), missing tests exit 3')
    .argument('<base>', 'the baseline results.json (the last release, the parent commit)')
    .argument('<new>', 'the results.json to judge')
    .option('--known <file>', 'known failures (YAML): they do not fail the comparison (docs/gating.md)')
    .option('--strict-known', 'stale --known entries (matching no failing test) fail it')
    .option('--junit <file>', 'write JUnit XML of NEW, known failures skipped')
    .option('--tap <file>', 'write TAP 14 of NEW')
    .option('--json <file>', 'write NEW\'s native JSON with the gate section')
    .option('--markdown <file>', 'write a short Markdown summary (for $GITHUB_STEP_SUMMARY)')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (base: string, now: string, opts: Record<string, unknown>) => {
      const { compareCommand } = await import('./commands/compare.js');
      const str = (k: string): string | undefined => opts[k] as string | undefined;
      const result = compareCommand({
        base, now, ...(str('known') !== undefined ? { known: str('known') } : {}), strictKnown: opts['strictKnown'] === true,
        reports: { junit: str('junit'), tap: str('tap'), json: str('json'), markdown: str('markdown') },
        quiet: opts['quiet'] === true, annotate: githubActions(),
      });
      setExit(exitCodeFor(result.verdict));
    });
  program
    .command('watch')
    .description('follow a run served with `run --serve`: the same live view, reconnecting by itself')
    .argument('<address>', 'the feed: ws://HOST:PORT (as printed by run --serve)')
    .option('--token <token>', 'the token the run printed (needed when it is bound beyond loopback)')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--color <when>', 'colour the output').choices(['auto', 'always', 'never']).default('auto'))
    .action(async (address: string, opts: Record<string, unknown>) => {
      const [{ watchCommand }, { liveView }] = await Promise.all([import('./commands/watch.js'), import('./commands/run-view.js')]);
      const view = liveView({
        quiet: opts['quiet'] === true, tty: process.stdout.isTTY === true, color: colorFor(opts['color']),
        write: (t) => { process.stdout.write(t); },
      });
      const code = await watchCommand({
        url: address,
        token: opts['token'] as string | undefined,
        onStart: (lanes, suitesTotal) => view.onStart(lanes, suitesTotal),
        onEvent: (e, lane) => view.onEvent(e, lane),
        onEnd: (result, flaky, gate) => view.finish(result, flaky, gate),
      });
      setExit(code);
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.OK;
  const program = buildProgram((c) => { code = c; });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    if (err instanceof BridgeError) {
      process.stderr.write(`kunit-bridge: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`kunit-bridge: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return ExitCode.INFRA;
  }
  return code;
}
