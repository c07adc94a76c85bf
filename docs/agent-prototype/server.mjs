// Host side of the agent prototype: a tiny runner stand-in.
//
//   node server.mjs --port P --out DIR [--token T] [--cut-every N] [--drop-acks F] [--plan FILE]
//
// Accepts ws://127.0.0.1:P/agent, answers hello with {welcome, have, plan}, keeps the lines
// in order (ignores numbers it already has, closes on a gap), acks cumulatively, and with
// --cut-every N kills the TCP connection (no close frame, last batch not acked) after every
// N lines received on one connection, to prove resume. Writes DIR/agent-lines.txt (the
// received lines, in order, one per line) and DIR/server.json (timings, counts).
import { createServer } from 'node:http';
import { writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const WS = createRequire(new URL('../../package.json', import.meta.url))('ws');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const port = Number(args.port ?? 0);
const out = args.out ?? '.';
const token = args.token ?? '';
const cutEvery = Number(args['cut-every'] ?? 0);
const dropAcks = Number(args['drop-acks'] ?? 0); // fraction of acks not sent
const plan = args.plan ? JSON.parse(readFileSync(args.plan, 'utf8')) : [];
const t0 = Number(args.t0 ?? Date.now()); // QEMU start time (ms since epoch), from the launcher

const linesFile = `${out}/agent-lines.txt`;
writeFileSync(linesFile, '');
let have = 0;
let boot;
const stats = { connects: 0, cuts: 0, duplicates: 0, gaps: 0, frames: 0, firstMessageMs: null, firstLinesMs: null, byeMs: null, summary: null };
const ms = () => Date.now() - t0;
const save = () => writeFileSync(`${out}/server.json`, JSON.stringify({ ...stats, lines: have }, null, 2) + '\n');

const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WS.WebSocketServer({ noServer: true, maxPayload: 4 << 20 });
http.on('connection', (s) => console.error(`server: tcp connection from ${s.remoteAddress}:${s.remotePort} at ${ms()} ms`));
http.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/agent' || (token && url.searchParams.get('token') !== token)) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
});

function attach(ws) {
  let received = 0;
  stats.connects++;
  let dead = false; // cut by us: frames ws already read from the socket are ignored, as a lost connection would lose them
  const cutNow = () => { stats.cuts++; dead = true; ws._socket.destroy(); };
  ws.on('message', (data) => {
    if (dead) return;
    stats.firstMessageMs ??= ms();
    const m = JSON.parse(String(data));
    if (m.t === 'hello') {
      if (boot && m.boot !== boot) console.error(`server: a different boot (${m.boot}), was ${boot}`);
      boot = m.boot;
      console.error(`server: hello #${stats.connects} at ${ms()} ms (guest uptime ${m.uptime} s), agent holds from ${m.next}, have ${have}`);
      ws.send(JSON.stringify({ t: 'welcome', v: 1, have, plan }));
    } else if (m.t === 'lines') {
      stats.frames++;
      stats.firstLinesMs ??= ms();
      if (m.from > have + 1) {
        stats.gaps++;
        console.error(`server: gap: have ${have}, got ${m.from}: closing`);
        ws.close(4003, 'gap');
        return;
      }
      received += m.lines.length;
      // Cut: half the time before this frame is stored (the agent must resend it), half after
      // (stored but not acked: the welcome's `have` must stop the agent from doubling it).
      const cut = cutEvery && received >= cutEvery;
      if (cut && Math.random() < 0.5) { cutNow(); return; }
      const fresh = m.lines.slice(Math.max(0, have + 1 - m.from));
      stats.duplicates += m.lines.length - fresh.length;
      if (fresh.length) appendFileSync(linesFile, fresh.join('\n') + '\n');
      have += fresh.length;
      if (cut) { cutNow(); return; } // abrupt: no close frame, this batch stored but not acked
      if (!(dropAcks && Math.random() < dropAcks)) ws.send(JSON.stringify({ t: 'ack', n: have }));
    } else if (m.t === 'sync') {
      ws.send(JSON.stringify({ t: 'ack', n: have }));
    } else if (m.t === 'bye') {
      stats.byeMs = ms();
      stats.summary = m.summary;
      console.error(`server: bye at ${ms()} ms: last ${m.last}, have ${have}; ${m.summary}`);
      ws.send(JSON.stringify({ t: 'bye' }));
      save();
    }
  });
  ws.on('close', () => save());
}

http.listen(port, '127.0.0.1', () => {
  console.error(`server: listening on 127.0.0.1:${http.address().port}`);
  if (args['port-file']) writeFileSync(args['port-file'], String(http.address().port));
});
process.on('SIGTERM', () => { save(); process.exit(0); });
