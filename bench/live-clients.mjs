// Client side of bench/live-latency.mjs: N WebSocket clients of the live feed, in a process of
// their own (started with child_process.fork, so this process's event loop is not the runner's).
//
//   node bench/live-clients.mjs WS_URL N
//
// Connects N clients to WS_URL (the feed, from=0), then sends the parent {type: 'ready'} over IPC.
// Every client records process.hrtime.bigint() (CLOCK_MONOTONIC, comparable with the parent's) the
// moment each message arrives, before anything else, and the message's seq (read from the text's
// head, without a JSON parse of the whole message). When every client has closed (the server
// closes them with 1000 after run-end) it sends {type: 'done', clients: [{seqs, times, closeCode}]}
// — seqs an Int32Array, times a BigInt64Array (IPC uses the "advanced" serialization) — and exits.
// A client that cannot connect: {type: 'error', message}, exit 2.
import WebSocket from 'ws';

const [url, nText] = process.argv.slice(2);
const n = Number(nText);
if (!url || !Number.isInteger(n) || n < 1 || !process.send) {
  console.error('usage: (forked with IPC) live-clients.mjs WS_URL N');
  process.exit(2);
}

const CAPACITY = 4096; // messages per client before the arrays grow
const SEQ = /^\{"v":\d+,"seq":(\d+),/;

const clients = [];
let open = 0;
let closed = 0;

const fail = (message) => {
  process.send({ type: 'error', message }, () => process.exit(2));
};

for (let i = 0; i < n; i++) {
  const c = { seqs: new Int32Array(CAPACITY), times: new BigInt64Array(CAPACITY), count: 0, closeCode: null, badSeq: 0 };
  clients.push(c);
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('message', (data) => {
    const t = process.hrtime.bigint();
    if (c.count === c.seqs.length) {
      const seqs = new Int32Array(c.seqs.length * 2);
      seqs.set(c.seqs);
      const times = new BigInt64Array(c.times.length * 2);
      times.set(c.times);
      c.seqs = seqs;
      c.times = times;
    }
    const m = SEQ.exec(data.toString('latin1', 0, 40));
    if (!m) c.badSeq++;
    c.seqs[c.count] = m ? Number(m[1]) : -1;
    c.times[c.count] = t;
    c.count++;
  });
  ws.once('open', () => {
    if (++open === n) process.send({ type: 'ready' });
  });
  ws.once('error', (e) => {
    if (c.closeCode === null) fail(`client ${i}: ${e.message}`);
  });
  ws.once('close', (code) => {
    c.closeCode = code;
    if (++closed === n) {
      process.send(
        {
          type: 'done',
          clients: clients.map((x) => ({
            seqs: x.seqs.slice(0, x.count),
            times: x.times.slice(0, x.count),
            closeCode: x.closeCode,
            badSeq: x.badSeq,
          })),
        },
        () => process.exit(0),
      );
    }
  });
}
