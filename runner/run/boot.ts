/**
 * One boot of one lane: the QEMU command, the agent's lane when there is
 * one, the session, and the fall back to TCG when KVM does not boot the
 * kernel. It keeps what the boots share: the accelerator they use now, the
 * raw logs, the first command line, the agents' failures.
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { agentInitArgs } from '../agent/boot.js';
import { AgentLane } from '../agent/lane.js';
import type { AgentServer } from '../agent/server.js';
import { BridgeError } from '../errors.js';
import type { KtapEvent } from '../ktap/model.js';
import { rememberKvm } from '../qemu/accel.js';
import { buildQemuCommand, type Accel, type KunitParams } from '../qemu/argv.js';
import { SERIAL_FD_PATH } from '../qemu/process.js';
import { runSession, type SessionResult } from '../session.js';
import type { RunContext } from './prepare.js';

/** What a lane's agent is told beyond the defaults: the glob to give the modules back. */
export interface AgentOptions {
  resetGlob?: string;
}

export class Booter {
  /** The accelerator the next boot uses (TCG once KVM did not boot). */
  accel: Accel;
  private probe: boolean;
  /** Every raw log written, in order (a failed KVM boot's too). */
  readonly rawLogs: string[] = [];
  private testCmdline = '';
  private listCmdline = '';
  /** Why the lanes' agents failed, in order. */
  readonly agentFailures: string[] = [];
  /** How many lanes the run has: with more than one, the agent's warnings name the lane. */
  lanesTotal = 1;

  /** The first test boot's kernel command line (a listing boot's only when no test boot ran: `--list`). */
  get firstCmdline(): string {
    return this.testCmdline || this.listCmdline;
  }

  constructor(
    private readonly ctx: RunContext,
    private readonly agentServer: AgentServer | undefined,
  ) {
    this.accel = ctx.accel;
    this.probe = ctx.probe;
  }

  private where(lane: number): string {
    return this.lanesTotal > 1 ? `lane ${lane + 1}: ` : '';
  }

  /** Boots until a boot counts: a KVM boot that printed nothing is logged aside and booted again with TCG. */
  async boot(logName: string, kunit: KunitParams, lane: number, agentOpts?: AgentOptions): Promise<SessionResult> {
    for (;;) {
      const s = await this.bootOnce(join(this.ctx.outputDir, logName), kunit, lane, agentOpts);
      if (s !== 'retry') return s;
    }
  }

  private newAgentLane(rawLogPath: string, lane: number, agentOpts: AgentOptions): AgentLane | undefined {
    const { req, queue, repeat, warn } = this.ctx;
    if (!this.agentServer) return undefined;
    return new AgentLane({
      server: this.agentServer,
      logPath: rawLogPath.replace(/console(-lane-\d+)?\.log$/, 'agent$1.log'),
      modules: queue,
      repeat,
      helloTimeoutMs: (req.agentTimeoutS ?? 60) * 1000,
      writes: req.guestWrites ?? [],
      warn: (m) => warn(`${this.where(lane)}${m}`),
      ...(agentOpts.resetGlob !== undefined ? { resetGlob: agentOpts.resetGlob } : {}),
      ...(req.agentCutEveryLines ? { cutEveryLines: req.agentCutEveryLines } : {}),
    });
  }

  private async bootOnce(rawLogPath: string, kunit: KunitParams, lane: number, agentOpts?: AgentOptions): Promise<SessionResult | 'retry'> {
    const { req, warn, qemu } = this.ctx;
    const agentLane = agentOpts ? this.newAgentLane(rawLogPath, lane, agentOpts) : undefined;
    const cmd = buildQemuCommand(
      {
        arch: this.ctx.arch,
        kernel: this.ctx.kernel,
        accel: this.accel,
        memoryMb: req.memoryMb,
        smp: req.smp,
        initrd: req.initrd,
        append: req.append,
        qemuArgs: req.qemuArgs,
        qemu,
        kunit,
        serialFile: SERIAL_FD_PATH,
        ...(agentLane
          ? {
              agent: {
                initArgs: agentInitArgs(
                  this.ctx.files!,
                  req.agentNode ?? process.execPath,
                  this.agentServer!.port,
                  agentLane.channel.tokenFile,
                ),
              },
            }
          : {}),
      },
      existsSync,
    );
    if (lane >= 0) this.testCmdline ||= cmd.cmdline;
    else this.listCmdline ||= cmd.cmdline;
    const remaining = this.ctx.deadline !== undefined ? Math.max(1, this.ctx.deadline - Date.now()) : 0;
    const onEvent = agentLane
      ? (e: KtapEvent): void => {
          agentLane.onEvent(e);
          req.onEvent?.(e, lane);
        }
      : req.onEvent
        ? (e: KtapEvent): void => req.onEvent!(e, lane)
        : undefined;
    let s: SessionResult;
    try {
      s = await runSession({
        command: cmd,
        debianPackage: this.ctx.profile.debianPackage,
        rawLogPath,
        timeoutMs: remaining,
        stallTimeoutMs: (req.stallTimeoutS ?? 0) * 1000,
        kvmProbeMs: this.probe ? (req.kvmProbeMs ?? 5000) : undefined,
        onEvent,
        onRaw: req.onRaw ? (c) => req.onRaw!(c, lane) : undefined,
        signal: req.signal,
        // The listing boot's console is the test list: read back from the session, not by name.
        keepConsole: kunit.action !== undefined,
        ...(agentLane ? { agent: agentLane.hooks() } : {}),
      });
    } catch (err) {
      agentLane?.release();
      throw err;
    }
    if (agentLane) {
      agentLane.settle(s.ending, s.panicked);
      if (agentLane.failure && s.ending !== 'kvm-dead' && s.ending !== 'qemu-failed') {
        this.agentFailures.push(agentLane.failure);
        warn(
          `${this.where(lane)}${agentLane.failure}; ${agentLane.channel.firstHelloAt === undefined ? 'the results' : 'the rest'} come from the serial console (${rawLogPath})`,
        );
      }
      s.result = agentLane.fold(s.result);
    }
    if (s.ending === 'kvm-dead') {
      const why = s.exit?.code
        ? `QEMU exited with status ${s.exit.code}: ${s.stderr.trim().split('\n').pop() ?? ''}`
        : `no kernel output within ${(req.kvmProbeMs ?? 5000) / 1000} s`;
      warn(`KVM did not boot the kernel (${why}); falling back to TCG`);
      renameSync(rawLogPath, rawLogPath.replace(/\.log$/, '.kvm-failed.log'));
      this.rawLogs.push(rawLogPath.replace(/\.log$/, '.kvm-failed.log'));
      rememberKvm(qemu, false);
      this.accel = 'tcg';
      this.probe = false;
      return 'retry';
    }
    this.rawLogs.push(rawLogPath);
    if (agentLane) this.rawLogs.push(agentLane.logPath);
    if (this.probe && s.sawKernel) {
      rememberKvm(qemu, true);
      this.probe = false;
    }
    if (s.ending === 'qemu-failed') {
      const last = s.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit status ${s.exit?.code}`;
      throw new BridgeError('E_QEMU_FAILED', `QEMU failed before the kernel printed anything: ${last} (raw log: ${rawLogPath})`);
    }
    return s;
  }
}
