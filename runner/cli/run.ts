/**
 * `kunit-bridge run`: the options (grouped as in `--help`), the typed request
 * they make, and the run's life on the command line: signals, the live view,
 * the live feed, the summary, the exit code.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { exitCodeForSignal } from '../exit-codes.js';
import { githubActions } from '../gate/request.js';
import type { BuildOutcome } from '../commands/build.js';
import type { RunOutcome, RunRequest } from '../run-request.js';
import type { ShardSpec } from '../shard-plan.js';
import { writeStdout } from '../stdout.js';
import { addBuildOptions, buildRequestOf, buildWithView, type BuildFlags } from './build.js';
import { addGateOptions, gateRequest, type GateFlags } from './gate-options.js';
import { collect, colorFor, colorOption, guestWrite, int, seconds, shardSpec, usage, words, type CommonFlags } from './options.js';
import { addReportOptions, reportRequest, type ReportFlags } from './report-options.js';

/** What commander hands over for `run` (defaults filled in). */
interface RunFlags extends CommonFlags, ReportFlags, GateFlags, BuildFlags {
  build?: boolean;
  kernel?: string;
  arch?: string;
  qemu?: string;
  qemuArgs?: string[];
  memory: number;
  smp: number;
  initrd?: string;
  append?: string[];
  accel: 'auto' | 'kvm' | 'tcg';
  filter?: string;
  filterAttr?: string;
  filterAction?: 'skip';
  list?: boolean;
  timeout: number;
  stallTimeout: number;
  runIsolated?: 'suite' | 'test';
  jobs?: number;
  shard?: ShardSpec;
  timings?: string;
  saveTimings?: string;
  output?: string;
  serve?: string;
  serveToken?: string;
  serveLinger: number;
  raw?: boolean;
  agent?: boolean;
  modules?: string[];
  repeat: number;
  guestWrite?: [string, string][];
  agentNode?: string;
  agentTimeout: number;
  target?: string;
  identity?: string[];
  knownHosts?: string;
  hostKey?: string;
  acceptNewHostKey?: boolean;
  reconnectTimeout: number;
}

function addRunOptions(cmd: Command): void {
  // The kernel and QEMU.
  cmd
    .option('--kernel <path>', 'kernel image (default: .kunit/arch/<arch>/boot/…, then arch/<arch>/boot/… in the current directory)')
    .addOption(new Option('--arch <arch>', "architecture: x86_64, arm64, riscv64 (default: the host's)"))
    .option('--qemu <path>', 'QEMU binary (default: qemu-system-<arch> on PATH)')
    .option('--qemu-args <args>', 'extra QEMU arguments (space-separated; repeatable)', words)
    .option('--memory <MiB>', 'guest memory', int('--memory', 64), 1024)
    .option('--smp <n>', 'guest CPUs', int('--smp', 1), 1)
    .option('--initrd <path>', 'initramfs for the guest')
    .option('--append <args>', 'extra kernel command line (repeatable)', words)
    .addOption(
      new Option('--accel <accel>', 'accelerator; auto falls back to TCG when KVM does not boot')
        .choices(['auto', 'kvm', 'tcg'])
        .default('auto'),
    );
  // Building the kernel first (docs/build.md).
  cmd.option('--build', 'configure and build the kernel first, from the tree and its kunitconfig (like kunit.py run)');
  addBuildOptions(cmd, false);
  // Which tests, and how long.
  cmd
    .option('--filter <glob>', 'run only suites/tests matching suite[.test] (kunit.filter_glob)')
    .option('--filter-attr <expr>', 'attribute filter, e.g. "speed>slow" or "module!=x" (kunit.filter)')
    .addOption(new Option('--filter-action <action>', 'report filtered-out tests as skipped').choices(['skip']))
    .option('--list', 'list the suites and tests instead of running them')
    .option('--timeout <seconds>', 'stop the whole run after this long (0: never)', seconds('--timeout'), 0)
    .option(
      '--stall-timeout <seconds>',
      'no KTAP progress for this long means the kernel hung (0: never)',
      seconds('--stall-timeout'),
      120,
    );
  // Several QEMU instances, several machines.
  cmd
    .addOption(new Option('--run-isolated <unit>', 'one boot per suite or per test').choices(['suite', 'test']))
    .option('-j, --jobs <n>', 'QEMU instances at once (default: the number of cores)', int('--jobs', 1))
    .option('--shard <K/N>', 'run the K-th of N parts of the tests (the same split on every machine; then `merge`)', shardSpec)
    .option('--timings <file>', 'balance --shard with the suite timings in FILE (written by --save-timings; default: a guess)')
    .option('--save-timings <file>', 'write the suite timings of this run to FILE, for --timings');
  // Output, reports, the gate, the live feed.
  cmd.option('-o, --output <dir>', 'output directory (default: ./kunit-bridge-out/<timestamp>/)');
  addReportOptions(cmd);
  addGateOptions(cmd, 'run');
  cmd
    .option('--serve <[host:]port>', 'serve a live WebSocket feed and web page (host 127.0.0.1 unless given; 0 = any port)')
    .option('--serve-token <token>', 'token the feed requires (default: none on loopback, a random one elsewhere)')
    .option('--serve-linger <seconds>', 'keep serving this long after the run ends', seconds('--serve-linger'), 2)
    .option('--raw', 'echo the raw console as well');
  // The in-guest agent.
  cmd
    .option('--agent', 'run the in-guest agent (host root over 9p, Node in the guest): KTAP over WebSocket, modules, repeats')
    .option(
      '--modules <path>',
      'test modules to load in the guest: a directory (searched for *.ko) or a file; repeatable; implies --agent',
      collect,
    )
    .option(
      '--repeat <n>',
      'run every suite N times in one boot (attempts 2..N through debugfs) to expose flaky tests; implies --agent',
      int('--repeat', 1),
      1,
    )
    .option(
      '--guest-write <path=value>',
      'write VALUE to PATH in the guest before modules and repeats (e.g. /proc/sys/kernel/panic_on_oops=1); repeatable; implies --agent',
      guestWrite,
    )
    .option('--agent-node <path>', 'Node binary for the guest, as seen from inside it (default: this one)')
    .option(
      '--agent-timeout <seconds>',
      'fall back to the serial console if the agent has not connected after this long',
      seconds('--agent-timeout'),
      60,
    );
  // A running kernel over SSH.
  cmd
    .option('--target <url>', 'run on a live kernel over SSH instead of booting one: ssh://[USER@]HOST[:PORT] (docs/targets.md)')
    .option(
      '--identity <file>',
      'with --target: private key to log in with (repeatable; also the SSH agent, and KUNIT_BRIDGE_SSH_PASSWORD)',
      collect,
    )
    .option('--known-hosts <file>', 'with --target: known_hosts file to verify the host key against (default ~/.ssh/known_hosts)')
    .option('--host-key <fingerprint>', 'with --target: accept only this host key (SHA256:…, as ssh-keygen -lf prints it)')
    .option('--accept-new-host-key', 'with --target: record an unknown host key in --known-hosts (a changed key is still refused)')
    .option(
      '--reconnect-timeout <seconds>',
      'with --target: keep reconnecting this long after the connection drops',
      seconds('--reconnect-timeout'),
      30,
    );
  cmd.option('-q, --quiet', 'print nothing but errors').addOption(colorOption('output'));
}

/** The typed request the flags make (the hooks and the signal are the caller's). */
export function runRequest(f: RunFlags): RunRequest {
  return {
    kernel: f.kernel,
    arch: f.arch,
    qemu: f.qemu,
    qemuArgs: f.qemuArgs,
    memoryMb: f.memory,
    smp: f.smp,
    initrd: f.initrd,
    append: f.append,
    accel: f.accel,
    filterGlob: f.filter,
    filterAttr: f.filterAttr,
    filterAction: f.filterAction,
    list: f.list === true,
    timeoutS: f.timeout,
    stallTimeoutS: f.stallTimeout,
    runIsolated: f.runIsolated,
    jobs: f.jobs ?? availableParallelism(),
    jobsExplicit: f.jobs !== undefined,
    shard: f.shard,
    timingsFile: f.timings,
    saveTimings: f.saveTimings,
    output: f.output,
    reports: reportRequest(f),
    gate: gateRequest(f),
    agent: f.agent === true,
    modules: f.modules,
    repeat: f.repeat,
    agentNode: f.agentNode,
    guestWrites: f.guestWrite,
    agentTimeoutS: f.agentTimeout,
    target: f.target,
    identities: f.identity,
    knownHosts: f.knownHosts,
    hostKey: f.hostKey,
    acceptNewHostKey: f.acceptNewHostKey === true,
    reconnectTimeoutS: f.reconnectTimeout,
  };
}

/** Ctrl-C, SIGTERM and a hang-up end the run with its reports (a second one ends it at once). */
function stopOnSignals(killAllQemu: () => void): AbortSignal {
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
  return ac.signal;
}

/** `--build`: the build before the run; without it, a stale image in `.kunit/` is said in one line. */
async function buildFirst(flags: RunFlags, signal: AbortSignal): Promise<BuildOutcome | 'interrupted' | undefined> {
  if (flags.build !== true) {
    if (flags.kernel === undefined && flags.target === undefined) {
      const [{ staleImageWarning }, { hostArch, normalizeArch }] = await Promise.all([
        import('../build/stale.js'),
        import('../qemu/profiles.js'),
      ]);
      const a = flags.arch === undefined ? hostArch() : normalizeArch(flags.arch);
      const w = a && staleImageWarning(join(process.cwd(), '.kunit'), a, '.kunit');
      if (w) process.stderr.write(`kunit-bridge: ${w}\n`);
    }
    return undefined;
  }
  if (flags.kernel !== undefined || flags.target !== undefined)
    usage('--build builds the kernel it boots: leave out --kernel and --target');
  const req = { ...buildRequestOf(flags), modules: (flags.modules?.length ?? 0) > 0 };
  return (await buildWithView(req, { quiet: flags.quiet === true, signal })) ?? 'interrupted';
}

async function runAction(flags: RunFlags, setExit: (code: number) => void): Promise<void> {
  // Loaded here, not at startup: `parse` does not need them (they pull in every reporter).
  const [{ runCommand }, { runView }, { killAllQemu }] = await Promise.all([
    import('../commands/run.js'),
    import('../commands/run-view.js'),
    import('../qemu/process.js'),
  ]);
  const signal = stopOnSignals(killAllQemu);
  const built = await buildFirst(flags, signal);
  if (built === 'interrupted') {
    setExit(exitCodeForSignal(signal.reason));
    return;
  }
  const view = runView({
    quiet: flags.quiet === true,
    raw: flags.raw === true,
    tty: process.stdout.isTTY === true,
    color: colorFor(flags.color),
    write: writeStdout,
  });
  const say = (line: string): void => {
    process.stderr.write(`kunit-bridge: ${line}\n`);
  };
  const live =
    flags.serve === undefined ? undefined : await (await import('../live/serve.js')).startLive(flags.serve, flags.serveToken, say);

  let outcome: RunOutcome;
  try {
    outcome = await runCommand({
      ...runRequest(flags),
      ...(built ? { kernel: built.record.image, build: built.record } : {}),
      signal,
      onEvent: live
        ? (e, lane) => {
            view.onEvent?.(e, lane);
            live.onEvent(e, lane);
          }
        : view.onEvent,
      onRaw: view.onRaw,
      onPlan: live
        ? (l, s, m) => {
            view.onPlan?.(l, s, m);
            live.onPlan(l, s, m);
          }
        : view.onPlan,
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
    if (githubActions())
      writeStdout(
        (await import('../gate/annotations.js'))
          .githubAnnotations(outcome.result)
          .map((l) => `${l}\n`)
          .join(''),
      );
  }
  // After the summary, which it must not hide: the reports that could be written were.
  if (outcome.reportError) say(outcome.reportError.message);
  setExit(outcome.exitCode);
  // The summary first, then the linger: late watchers still get the whole run.
  await live?.close(flags.serveLinger * 1000);
}

export function registerRun(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('run')
    .description(
      'boot a kernel with KUnit tests in QEMU (or reach one over SSH), show results live, write the raw console log and reports',
    );
  addRunOptions(cmd);
  cmd.action((flags: RunFlags) => runAction(flags, setExit));
}
