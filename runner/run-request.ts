/**
 * What `run` is asked for and what it gives back: the request the command
 * line builds and the outcome it turns into an exit code. Types only, below
 * every transport (QEMU in runner/commands/run.ts, SSH in runner/ssh/).
 */
import type { BuildRecord } from './build/record.js';
import type { BridgeError } from './errors.js';
import type { KtapEvent, RunResult } from './ktap/model.js';
import type { ListedSuite } from './ktap/test-list.js';
import type { AccelChoice } from './qemu/accel.js';
import type { ReportRequest } from './reports.js';
import type { ShardSpec } from './shard-plan.js';
import type { Lane } from './shard.js';
import type { GateRequest } from './gate/request.js';

export interface RunRequest {
  kernel?: string;
  arch?: string;
  qemu?: string;
  qemuArgs?: string[];
  memoryMb?: number;
  smp?: number;
  initrd?: string;
  append?: string[];
  accel?: AccelChoice;
  filterGlob?: string;
  filterAttr?: string;
  filterAction?: 'skip';
  /** Print the tests instead of running them. */
  list?: boolean;
  /** Whole-run limit, seconds (0: none). */
  timeoutS?: number;
  /** No KTAP progress for this long means the kernel hung, seconds (0: none). */
  stallTimeoutS?: number;
  runIsolated?: 'suite' | 'test';
  /** At most this many QEMU instances at once (default: 1). */
  jobs?: number;
  /**
   * The user asked for `jobs` explicitly: shard even without history. Otherwise
   * a run shards only when recorded timings say the work outweighs a listing boot.
   */
  jobsExplicit?: boolean;
  /** Output directory (default ./kunit-bridge-out/<timestamp>/). */
  output?: string;
  reports?: ReportRequest;
  /** How long a KVM boot may stay silent before falling back to TCG (ms, default 5000). */
  kvmProbeMs?: number;
  signal?: AbortSignal;
  /** Live events of every lane (the console view, the live feed). */
  onEvent?: (event: KtapEvent, lane: number) => void;
  /** Raw console bytes (for --raw). */
  onRaw?: (chunk: Buffer, lane: number) => void;
  /** One-line warnings and notes (stderr). */
  warn?: (message: string) => void;
  /** Told the lanes (and the kernel's test list, when it was needed) before the tests start. */
  onPlan?: (lanes: Lane[], suites: ListedSuite[] | undefined, metadata: Record<string, string>) => void;
  cwd?: string;
  /**
   * Boot into the in-guest agent (the host's root over 9p, Node in the guest): KTAP over
   * WebSocket from /dev/kmsg, module loads, repeats. Implied by `modules` and `repeat` > 1.
   */
  agent?: boolean;
  /** Test modules to load in the guest: directories (searched recursively) or .ko files. */
  modules?: string[];
  /** Run every suite this many times in one boot (attempts 2..N through debugfs). */
  repeat?: number;
  /** Node binary the guest runs the agent with (default: this one). */
  agentNode?: string;
  /** No word from the agent this long after QEMU starts: fall back to the console (seconds, default 60). */
  agentTimeoutS?: number;
  /** Files to write in the guest after boot, before modules and repeats: [path, value]. */
  guestWrites?: [string, string][];
  /** Tests: cut the agent's connection every this many lines (see AgentChannelOptions). */
  agentCutEveryLines?: number;
  /** `--shard K/N`: run the K-th of N parts (the same split on every machine). */
  shard?: ShardSpec;
  /** `--timings FILE`: suite timings that balance the shards (else the built-in guess). */
  timingsFile?: string;
  /** `--save-timings FILE`: write this run's timings for the next plan. */
  saveTimings?: string;
  /** `--known`, `--baseline`, `--strict-known` (docs/gating.md): read before QEMU starts, applied to the result. */
  gate?: GateRequest;
  /** `ssh://[USER@]HOST[:PORT]`: run on that live kernel instead of booting one (runner/ssh/, docs/targets.md). */
  target?: string;
  /** Private key files for the target (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa; plus the agent). */
  identities?: string[];
  /** known_hosts file (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Accept only this host key: `SHA256:…`. */
  hostKey?: string;
  /** Record an unknown host key (trust on first use); a changed one is still refused. */
  acceptNewHostKey?: boolean;
  /** Keep reconnecting to the target this long after the connection drops (seconds, default 30). */
  reconnectTimeoutS?: number;
  /** SSH handshake limit and keepalive interval (seconds; defaults 10 and 2). */
  sshReadyTimeoutS?: number;
  sshKeepaliveS?: number;
  /** `run --build`: the build that made `kernel`, recorded in results.json. */
  build?: BuildRecord;
}

export interface RunOutcome {
  result: RunResult;
  exitCode: number;
  outputDir: string;
  rawLogs: string[];
  /** `kunit.action=list` output, for --list. */
  listed?: ListedSuite[];
  /** A report that could not be written (E_REPORT_WRITE; the others were): `exitCode` is its. */
  reportError?: BridgeError;
}
