/**
 * The in-guest agent: reads the kernel log from /dev/kmsg (from the oldest
 * record: the boot's KTAP included), sends it to the runner as numbered
 * console lines over WebSocket, resends after a lost connection from what
 * the runner says it holds, and does the steps the runner hands out
 * (insmod, filter_glob, debugfs re-runs), each between two marker records
 * written into the kernel log. Runs on the host's Node through the 9p share;
 * started by agent/init.sh.
 *
 *   node main.js --host 10.0.2.2 --port P --token-file F
 *
 * The token is read from F (a 0600 file the runner removes once this agent
 * has said hello), never from the command line. Before it connects, the
 * agent prints a hash of the guest's boot id on the serial console: the
 * runner takes only a hello for that boot (agent/protocol.ts).
 */
import { closeSync, constants, existsSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { consoleLines, parseKmsgRecord } from './kmsg.js';
import { Outbox } from './outbox.js';
import {
  AGENT_LOG_PREFIX, AGENT_PATH, AGENT_PROTOCOL_VERSION, CLOSE_BAD_FRAME, MARKER_PREFIX, MAX_FRAME_BYTES, MAX_FRAME_CHARS,
  bootProofLine, clampLine, decodeRunnerFrame, describeStep,
  type AgentFrame, type AgentStep, type RunnerFrame, type StepOutcome,
} from './protocol.js';

const wsModule = import('ws'); // about 0.7 s under TCG: loads while the boot's records are read
const t0 = Date.now();
const args = new Map<string, string>();
for (let i = 2; i + 1 < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const HOST = args.get('host') ?? '10.0.2.2';
const PORT = Number(args.get('port') ?? 0);
const KUNIT_DEBUGFS = '/sys/kernel/debug/kunit';
const FILTER_GLOB = '/sys/module/kunit/parameters/filter_glob';

/** Agent messages go to stderr: the serial console (init's stdio). */
const log = (msg: string): void => { process.stderr.write(`${AGENT_LOG_PREFIX}${msg}\n`); };
const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

let TOKEN: string;
try {
  TOKEN = readFileSync(args.get('token-file') ?? '', 'utf8').trim();
} catch (e) {
  log(`error: cannot read the token file: ${(e as Error).message}`);
  process.exit(1);
}
const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
// On the serial console, which only this guest writes: the runner binds the channel to this boot.
process.stderr.write(`${bootProofLine(BOOT_ID)}\n`);

// Writes to /dev/kmsg are rate-limited unless printk_devkmsg is on (the runner puts
// printk.devkmsg=on on the command line, which also locks it; the sysctl wants the newline).
try {
  if (readFileSync('/proc/sys/kernel/printk_devkmsg', 'utf8').trim() !== 'on') writeFileSync('/proc/sys/kernel/printk_devkmsg', 'on\n');
} catch (e) {
  log(`printk_devkmsg: ${(e as Error).message}`);
}

// ---- the kernel log ----------------------------------------------------------------------------
const kmsg = openSync('/dev/kmsg', constants.O_RDWR | constants.O_NONBLOCK);
const rbuf = Buffer.alloc(16384);
const outbox = new Outbox({ maxChars: MAX_FRAME_CHARS });
let lastSeq = -1;
let lost = 0;
const markerWaiters = new Map<string, () => void>();

/** Read every record there is now; queue their lines; send. */
function drain(): void {
  let count = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(kmsg, rbuf, 0, rbuf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') break;
      if (code === 'EPIPE') { // records overwritten before we read them
        lost++;
        outbox.push([`${AGENT_LOG_PREFIX}kernel log records lost (overwritten) after seq ${lastSeq}`]);
        continue;
      }
      throw e;
    }
    const r = parseKmsgRecord(rbuf.toString('latin1', 0, n));
    if (!r) continue;
    if (lastSeq >= 0 && r.seq !== lastSeq + 1) outbox.push([`${AGENT_LOG_PREFIX}kernel log records lost: seq ${lastSeq} -> ${r.seq}`]);
    lastSeq = r.seq;
    count++;
    outbox.push(consoleLines(r).map(clampLine));
    const waiter = markerWaiters.get(r.text);
    if (waiter) { markerWaiters.delete(r.text); waiter(); }
  }
  if (count) pump();
}

/** Write a marker record into the kernel log and wait until it has been read back. */
function mark(text: string): Promise<void> {
  const full = `${MARKER_PREFIX}${text}`;
  const seen = new Promise<void>((resolve) => {
    markerWaiters.set(full, resolve);
    setTimeout(() => {
      if (markerWaiters.delete(full)) { outbox.push([`${AGENT_LOG_PREFIX}marker not seen in the kernel log: ${full}`]); pump(); resolve(); }
    }, 3000).unref();
  });
  writeSync(kmsg, `<14>${full}\n`); // facility user, level info: reaches the console too
  drain();
  return seen;
}

// ---- the connection ----------------------------------------------------------------------------
interface Socket { send(data: string): void; close(code?: number): void }
let sock: Socket | undefined; // open and welcomed
let connects = 0;
let connectErrors = 0;
let lastAckAt = Date.now();
let finished = false;
let runnerBye = false;
/** Waiting for the next step: the ready to (re)send, and whether this connection has had it. */
let ready: { frame: AgentFrame & { t: 'ready' }; sent: boolean } | undefined;
let onStep: ((f: RunnerFrame & ({ t: 'step' } | { t: 'done' })) => void) | undefined;
const drainedWaiters: (() => void)[] = [];

const send = (f: AgentFrame): void => sock?.send(JSON.stringify(f));

/** Send what can be sent; tell who waits for "all acked"; send a pending ready. */
function pump(): void {
  if (!sock) return;
  for (const f of outbox.take()) send({ t: 'lines', ...f });
  if (outbox.drained) {
    for (const w of drainedWaiters.splice(0)) w();
    if (ready && !ready.sent) { ready.sent = true; send(ready.frame); }
  }
}
const allAcked = (): Promise<void> => (outbox.drained ? Promise.resolve() : new Promise((r) => drainedWaiters.push(r)));

// An ack more than a second overdue: ask for one (acks are cumulative; cheap).
setInterval(() => {
  if (sock && outbox.inFlight > 0 && Date.now() - lastAckAt > 1000) { lastAckAt = Date.now(); send({ t: 'sync' }); }
}, 250).unref();

async function connect(): Promise<void> {
  const { WebSocket } = await wsModule;
  const url = `ws://${HOST}:${PORT}${AGENT_PATH}?token=${encodeURIComponent(TOKEN)}`;
  const ws = new WebSocket(url, { handshakeTimeout: 5000, maxPayload: MAX_FRAME_BYTES });
  let opened = false;
  let error: string | undefined;
  const me: Socket = { send: (d) => ws.send(d), close: (c) => ws.close(c) };
  ws.on('open', () => {
    opened = true;
    if (connects++ === 0) log(`connected ${Date.now() - t0} ms after start`);
    ws.send(JSON.stringify({ t: 'hello', v: AGENT_PROTOCOL_VERSION, boot: BOOT_ID, next: outbox.ackedUpTo + 1, uptime: uptime(), node: process.version } satisfies AgentFrame));
  });
  ws.on('message', (data, isBinary) => {
    const d = isBinary ? { error: 'a binary frame' } : decodeRunnerFrame(String(data));
    if (d.error !== undefined) {
      log(`protocol error from the runner: ${d.error}`);
      ws.close(CLOSE_BAD_FRAME);
      return;
    }
    const f = d.frame;
    switch (f.t) {
      case 'welcome':
        outbox.resume(f.have);
        lastAckAt = Date.now();
        sock = me;
        if (ready) ready.sent = false;
        pump();
        if (finished) send({ t: 'bye', last: outbox.last, summary: 'resent' });
        break;
      case 'ack':
        lastAckAt = Date.now();
        outbox.ack(f.n);
        pump();
        break;
      case 'step':
      case 'done':
        onStep?.(f);
        break;
      case 'bye':
        runnerBye = true;
        ws.close(1000);
        break;
    }
  });
  ws.on('error', (e) => { error = e.message; });
  ws.on('close', (code) => {
    if (sock === me) sock = undefined;
    if (!opened && connectErrors++ < 5) log(`connect ${url.replace(/token=[^&]*/, 'token=…')}: ${error ?? `closed (${code})`}`);
    if (!finished || !runnerBye) setTimeout(() => void connect(), opened ? 50 : 250);
  });
}

// ---- steps -------------------------------------------------------------------------------------
const execute = (cmd: string, argv: string[]): Promise<{ status: number; note: string }> => new Promise((resolve) => {
  execFile(cmd, argv, { encoding: 'utf8' }, (err, stdout, stderr) => {
    const status = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
    resolve({ status, note: `${stdout}${stderr}`.trim() || (err && status !== 0 ? err.message : '') });
  });
});

async function perform(step: AgentStep): Promise<Omit<StepOutcome, 'ms'>> {
  try {
    switch (step.op) {
      case 'insmod':
        if (!existsSync(step.path)) return { status: 1, missing: true, note: `${step.path}: no such file in the guest` };
        return await execute('insmod', [step.path]);
      case 'rmmod':
        return await execute('rmmod', [step.name]);
      case 'filter_glob':
        // No newline: the parameter is a charp, and "glob\n" would match nothing.
        await writeFile(FILTER_GLOB, step.value);
        return { status: 0 };
      case 'run': {
        const run = `${KUNIT_DEBUGFS}/${step.suite}/run`;
        if (!existsSync(run)) return { status: 1, missing: true, note: `${run} does not exist` };
        await writeFile(run, 'run\n'); // returns when the suite has run; the reader keeps streaming meanwhile
        return { status: 0 };
      }
      case 'write':
        if (!existsSync(step.path)) return { status: 1, missing: true, note: `${step.path} does not exist` };
        await writeFile(step.path, step.value);
        return { status: 0 };
    }
  } catch (e) {
    return { status: 1, note: (e as Error).message };
  }
}

async function nextStep(after: number, outcome?: StepOutcome): Promise<(RunnerFrame & { t: 'step' }) | undefined> {
  await allAcked();
  return new Promise((resolve) => {
    onStep = (f) => {
      if (f.t === 'step' && f.id <= after) return; // a step we did already (resent): ignore
      onStep = undefined;
      ready = undefined;
      resolve(f.t === 'step' ? f : undefined);
    };
    ready = { frame: { t: 'ready', after, ...(outcome ? { outcome } : {}) }, sent: false };
    pump();
  });
}

log(`node ${process.version}: up after ${Math.round(process.uptime() * 1000)} ms; guest uptime ${uptime()} s`);
const reading = setInterval(drain, 20);
drain();
log(`read ${outbox.last} lines from /dev/kmsg`);
await connect();
let after = 0;
let outcome: StepOutcome | undefined;
let steps = 0;
for (;;) {
  const f = await nextStep(after, outcome);
  if (!f) break;
  const what = describeStep(f.step);
  await mark(`step ${f.id} begin ${what}`);
  const started = Date.now();
  const r = await perform(f.step);
  outcome = { ...r, ms: Date.now() - started, ...(r.note ? { note: r.note.slice(0, 700) } : {}) };
  await mark(`step ${f.id} end status=${r.status} ms=${outcome.ms}${r.note ? ` ${JSON.stringify(r.note.slice(0, 300))}` : ''}`);
  after = f.id;
  steps++;
}
await mark(`done steps=${steps}`);
await allAcked();
finished = true;
const summary = `lines=${outbox.last} seq=${lastSeq} lost=${lost} connects=${connects} ms=${Date.now() - t0}`;
send({ t: 'bye', last: outbox.last, summary });
log(summary);
// Wait briefly for the runner's bye; exit either way (init then ends the guest).
const deadline = Date.now() + 2000;
while (!runnerBye && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
clearInterval(reading);
closeSync(kmsg);
process.exit(0);
