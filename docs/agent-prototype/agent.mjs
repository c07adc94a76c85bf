// kunit-bridge in-guest agent, prototype (plain JS ESM, Node >= 20, no build).
//
//   node agent.mjs --host 10.0.2.2 --port P [--token T] --ws-from <repo>/package.json
//
// 1. Opens /dev/kmsg (a fresh fd starts at the oldest record: the whole boot),
//    turns each record into console-like lines "[    1.234567] text" and numbers
//    them 1, 2, 3, ... (agent line numbers, not kmsg seqs).
// 2. Connects to ws://HOST:PORT/agent, says hello, gets a plan and the number of
//    the last line the runner holds, sends lines in batches, drops them when
//    acked; after a lost connection it reconnects and resends from the runner's
//    last line + 1 (the runner ignores what it already has).
// 3. Runs the plan's steps (insmod, filter_glob, debugfs run, rmmod), each
//    between two marker records it writes into /dev/kmsg itself, so the markers
//    are ordered with the kernel's own lines, reach the serial console too, and
//    tell the reader when a step's output has all been read.
// 4. When the plan is done and every line is acked: says bye and exits; init
//    then reboots (QEMU exits because of -no-reboot).
import { closeSync, constants, openSync, readdirSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

const t0 = Date.now();
const up0 = process.uptime(); // node's own start-up before this module ran
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const HOST = args.host ?? '10.0.2.2';
const PORT = Number(args.port ?? 0);
const TOKEN = args.token ?? '';
const log = (msg) => process.stderr.write(`kunit-bridge-agent: ${msg}\n`); // stderr: the serial console

// ---- /dev/kmsg -------------------------------------------------------------------------------
// One read() = one record: "PRI,SEQ,USEC,FLAGS[,more];TEXT\n" then " KEY=value\n" dict lines.
// TEXT has every byte < 0x20, >= 0x7f and '\' escaped as \xNN (a multi-line printk: \x0a).
// Our marker records are writes to /dev/kmsg, which the kernel rate-limits by default (10 per
// 5 s per fd, the rest silently dropped): turn that off (printk.devkmsg=on on the command line
// does the same and locks it). The sysctl wants the newline (it rejects "on" without one).
try {
  if (readFileSync('/proc/sys/kernel/printk_devkmsg', 'utf8').trim() !== 'on') writeFileSync('/proc/sys/kernel/printk_devkmsg', 'on\n');
} catch (e) { log(`printk_devkmsg: ${e.message}`); }
const kmsg = openSync('/dev/kmsg', constants.O_RDWR | constants.O_NONBLOCK);
const rbuf = Buffer.alloc(16384);
let lastKseq = -1;
let gaps = 0;

function unescape(text) {
  if (!text.includes('\\')) return text;
  const bytes = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === 'x' && /^[0-9a-f]{2}$/i.test(text.slice(i + 2, i + 4))) {
      bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else bytes.push(text.charCodeAt(i)); // the header and escaped text are ASCII
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Parse one record; null if it is not one (should not happen). */
export function parseRecord(rec) {
  const semi = rec.indexOf(';');
  const nl = rec.indexOf('\n', semi);
  if (semi < 0) return null;
  const [pri, seq, usec, flags] = rec.slice(0, semi).split(',');
  const dict = rec.slice(nl + 1).split('\n').filter((l) => l.startsWith(' ')).map((l) => l.slice(1));
  return {
    level: Number(pri) & 7, facility: Number(pri) >> 3, seq: Number(seq), usec: Number(usec), flags,
    text: unescape(rec.slice(semi + 1, nl < 0 ? undefined : nl)), dict,
  };
}

/** The console's rendering: "[%5lu.%06lu] " before every line of the record. */
export function consoleLines(r) {
  const prefix = `[${String(Math.floor(r.usec / 1e6)).padStart(5)}.${String(r.usec % 1e6).padStart(6, '0')}] `;
  return r.text.replace(/\n$/, '').split('\n').map((l) => prefix + l);
}

// --record-stats 1: what the records look like (for the design note), printed at the end.
const rs = { flags: {}, levels: {}, facilities: {}, withDict: 0, multiLine: 0, examples: {} };
function recordStats(raw, r) {
  rs.flags[r.flags] = (rs.flags[r.flags] ?? 0) + 1;
  rs.levels[r.level] = (rs.levels[r.level] ?? 0) + 1;
  rs.facilities[r.facility] = (rs.facilities[r.facility] ?? 0) + 1;
  if (r.dict.length) { rs.withDict++; rs.examples.dict ??= raw; }
  if (r.text.includes('\n')) { rs.multiLine++; rs.examples.multiLine ??= raw; }
  if (r.facility === 1) rs.examples.user ??= raw;
  if (r.level === 7) { rs.examples.debug ??= raw; (rs.debugTexts ??= []).push(raw.split('\n')[0].slice(0, 90)); }
  rs.examples.first ??= raw;
  if (raw.split(';')[0].split(',').length > 4) rs.examples.extraFields ??= raw;
}
process.on('exit', () => { if (args['record-stats'] !== undefined) log(`record stats ${JSON.stringify(rs)}`); });
const markerWaiters = new Map(); // marker text -> resolve
/** Read every record available now; returns how many. */
function drainKmsg() {
  let count = 0;
  for (;;) {
    let n;
    try {
      n = readSync(kmsg, rbuf, 0, rbuf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') break;
      if (e.code === 'EPIPE') { gaps++; queue([`kunit-bridge-agent: kmsg records lost (overwritten) after seq ${lastKseq}`]); continue; }
      throw e;
    }
    const raw = rbuf.toString('latin1', 0, n);
    const r = parseRecord(raw);
    if (!r) continue;
    if (args['record-stats'] !== undefined) recordStats(raw, r);
    if (lastKseq >= 0 && r.seq !== lastKseq + 1) queue([`kunit-bridge-agent: kmsg gap: seq ${lastKseq} -> ${r.seq}`]);
    lastKseq = r.seq;
    count++;
    queue(consoleLines(r));
    const w = markerWaiters.get(r.text);
    if (w) { markerWaiters.delete(r.text); w(); }
  }
  if (count) flush();
  return count;
}
setInterval(drainKmsg, 20).unref();

/** Write a marker record into the kernel log and wait until the reader has passed it. */
function mark(text) {
  const full = `kunit-bridge: ${text}`;
  const seen = new Promise((resolve) => {
    markerWaiters.set(full, resolve);
    // A marker the kernel dropped (rate limit) must not stop the agent: go on after 3 s, say so.
    setTimeout(() => {
      if (markerWaiters.delete(full)) { queue([`kunit-bridge-agent: marker not seen in /dev/kmsg: ${full}`]); flush(); resolve(); }
    }, 3000).unref();
  });
  writeSync(kmsg, `<14>${full}\n`); // facility user, level info: shown on the console too
  drainKmsg();
  return seen;
}

// ---- numbered lines, acks, resume --------------------------------------------------------------
const pending = []; // lines not yet acked; pending[0] has number base + 1
let base = 0; // every line <= base is acked
let next = 1; // number of the next line to queue
let sentUpTo = 0; // highest number sent on the current connection
let firstSendMs;
const WINDOW = 4000;
const BATCH = Number(args.batch ?? 256);
function queue(lines) { for (const l of lines) { pending.push(l); next++; } }

let ws; // open and welcomed connection, or undefined
function flush() {
  if (!ws) return;
  while (sentUpTo < next - 1 && sentUpTo - base < WINDOW) {
    const from = sentUpTo + 1;
    const lines = pending.slice(from - base - 1, from - base - 1 + BATCH);
    ws.send(JSON.stringify({ t: 'lines', from, lines }));
    firstSendMs ??= Date.now() - t0;
    sentUpTo = from + lines.length - 1;
  }
}
let lastAckAt = Date.now();
function acked(n) {
  lastAckAt = Date.now();
  if (n <= base) return;
  pending.splice(0, Math.min(n - base, pending.length));
  base = Math.min(n, next - 1);
  flush();
  if (base === next - 1) for (const w of drainedWaiters.splice(0)) w();
}
const drainedWaiters = [];
// Acks are cumulative and TCP does not lose them, but ask again when one is overdue (cheap,
// and it makes the end of the run independent of the runner's ack timing).
setInterval(() => {
  if (ws && base < sentUpTo && Date.now() - lastAckAt > 1000) { lastAckAt = Date.now(); ws.send(JSON.stringify({ t: 'sync' })); }
}, 250).unref();
const allAcked = () => (base === next - 1 ? Promise.resolve() : new Promise((r) => drainedWaiters.push(r)));

let plan; // from the first welcome
let planReady;
const planArrived = new Promise((r) => { planReady = r; });
let connects = 0;
let errors = 0;
let bye = false;

/**
 * A WebSocket client: the `ws` package (from --ws-from; about 0.7 s to load under TCG), or
 * with --builtin-websocket 1 Node's own (Node >= 22, or 20 with --experimental-websocket;
 * measured: no faster to connect, slower overall). Callbacks get strings.
 */
let WsPackage;
function openSocket(url, { onOpen, onMessage, onClose }) {
  if (args['builtin-websocket'] !== undefined && typeof globalThis.WebSocket === 'function') {
    const s = new globalThis.WebSocket(url);
    const timer = setTimeout(() => s.close(), 5000); // no handshake timeout option: closing fails the attempt
    s.onopen = () => { clearTimeout(timer); onOpen(); };
    s.onmessage = (ev) => onMessage(String(ev.data));
    s.onerror = () => {};
    s.onclose = (ev) => { clearTimeout(timer); onClose(`code ${ev.code}${ev.reason ? ` ${ev.reason}` : ''}`); };
    return { send: (d) => s.send(d), close: (code) => s.close(code) };
  }
  WsPackage ??= createRequire(args['ws-from'])('ws');
  const s = new WsPackage(url, { handshakeTimeout: 5000 });
  let error;
  s.on('open', onOpen);
  s.on('message', (d) => onMessage(String(d)));
  s.on('error', (e) => { error = e.message; });
  s.on('close', (code) => onClose(error ?? `code ${code}`));
  return { send: (d) => s.send(d), close: (code) => s.close(code) };
}

function connect() {
  const url = `ws://${HOST}:${PORT}/agent${TOKEN ? `?token=${encodeURIComponent(TOKEN)}` : ''}`;
  let opened = false;
  const sock = openSocket(url, {
    onOpen() {
      opened = true;
      if (!connects) log(`connected ${Date.now() - t0} ms after start (${WsPackage ? 'ws package' : 'built-in WebSocket'})`);
      connects++;
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      sock.send(JSON.stringify({ t: 'hello', v: 1, boot, next: base + 1, uptime: readFileSync('/proc/uptime', 'utf8').split(' ')[0] }));
    },
    onMessage(data) {
      const m = JSON.parse(data);
      if (m.t === 'welcome') {
        // The runner holds lines 1..have: resend from have + 1 (never below what it acked before).
        acked(m.have);
        sentUpTo = base;
        ws = sock;
        if (!plan) { plan = m.plan ?? []; planReady(); }
        flush();
      } else if (m.t === 'ack') {
        acked(m.n);
      } else if (m.t === 'bye') {
        bye = true;
        sock.close(1000);
      }
    },
    onClose(why) {
      if (ws === sock) ws = undefined;
      if (!opened && errors++ < 5) log(`connect ${url.replace(/token=[^&]*/, 'token=…')}: ${why}`);
      if (!bye) setTimeout(connect, opened ? 50 : 200);
    },
  });
}

// ---- steps --------------------------------------------------------------------------------------
const run = (cmd, argv) => new Promise((resolve) => {
  execFile(cmd, argv, { encoding: 'utf8' }, (err, stdout, stderr) => {
    resolve({ status: err ? (err.code ?? 1) : 0, out: (stdout + stderr).trim() });
  });
});

async function step(i, s) {
  const what = Object.entries(s).map(([k, v]) => `${k} ${v}`).join(' ').slice(0, 300);
  await mark(`step ${i} begin ${what}`);
  const started = Date.now();
  let status = 0;
  let note = '';
  try {
    if (s.insmod) ({ status, out: note } = await run('insmod', [s.insmod]));
    else if (s.rmmod) ({ status, out: note } = await run('rmmod', [s.rmmod]));
    // No newline: a charp module parameter keeps it, and "glob\n" matches nothing.
    else if (s.filter_glob !== undefined) await writeFile('/sys/module/kunit/parameters/filter_glob', s.filter_glob);
    // The write returns when the suite has run (synchronous in 6.12); async: the reader keeps streaming.
    else if (s.run) await writeFile(`/sys/kernel/debug/kunit/${s.run}/run`, 'run\n');
    else if (s.write) await writeFile(s.write[0], s.write[1]);
    else if (s.ls) note = readdirSync(s.ls).join(' ');
    else if (s.cat) note = readFileSync(s.cat, 'utf8').trim();
    else { status = 1; note = 'unknown step'; }
  } catch (e) {
    status = 1;
    note = e.message;
  }
  await mark(`step ${i} end status=${status} ms=${Date.now() - started}${note ? ` ${JSON.stringify(note).slice(0, 700)}` : ''}`);
}

log(`node ${process.version}: start-up ${(up0 * 1000).toFixed(0)} ms; uptime ${readFileSync('/proc/uptime', 'utf8').split(' ')[0]} s`);
connect(); // first: the handshake goes on while the boot's records are read
const tDrain = Date.now();
drainKmsg();
log(`read ${next - 1} lines from /dev/kmsg in ${Date.now() - tDrain} ms`);
await planArrived;
for (const [i, s] of plan.entries()) await step(i + 1, s);
await mark(`done steps=${plan.length}`);
await allAcked();
const summary = `lines=${next - 1} kseq=${lastKseq} gaps=${gaps} connects=${connects} first-send-ms=${firstSendMs} total-ms=${Date.now() - t0}`;
ws?.send(JSON.stringify({ t: 'bye', last: next - 1, summary }));
log(summary);
// Wait (briefly) for the runner's bye; exit either way.
const deadline = Date.now() + 2000;
while (!bye && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
closeSync(kmsg);
process.exit(0);
