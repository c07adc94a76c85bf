// kunit-bridge live page, the connection: one WebSocket to the run's feed (docs/live-protocol.md) at a
// time, which hands on every message once and in order. When the socket is lost it reconnects with
// `from=` the last message the page has (the server replays what came after), backing off; it stops at
// run-end, or when the server closes normally (1000: the run is over). Behind a token it passes it on.

/** The feed's address beside the page, asking for the messages after `from`. */
export function feedUrl(pageHref, from, token) {
  const u = new URL('feed', pageHref);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.search = '';
  u.hash = '';
  u.searchParams.set('from', String(from));
  if (token) u.searchParams.set('token', token);
  return u.href;
}

/** The wait before the next attempt: 250 ms, 500 ms, 1 s, … up to 10 s, with jitter; a stopping server (1001) gets a slower start. */
export function retryDelay(attempt, code, random = Math.random()) {
  const base = Math.min(10000, 250 * 2 ** attempt) * (code === 1001 ? 4 : 1);
  return Math.round(Math.min(10000, base) * (0.8 + random * 0.4));
}

/**
 * Follow the feed.
 * @param {object} o
 * @param {string} o.pageHref the page's address (location.href)
 * @param {string | null} o.token the server's token, if it wants one
 * @param {() => number} o.lastSeq the seq of the last message the page has
 * @param {() => boolean} o.ended the page has the run's end
 * @param {(m: any) => void} o.onMessage the next message (its seq is lastSeq() + 1)
 * @param {(state: 'connecting' | 'live' | 'finished') => void} o.onState
 * @param {(text: string) => void} o.onNotice why the connection is down and when it retries ('' when up)
 */
export function followFeed(o) {
  let socket = null;
  let attempt = 0;
  let retryTimer = 0;
  let stopped = false;

  function connect() {
    retryTimer = 0;
    if (stopped) return;
    if (!o.ended()) o.onState('connecting');
    let ws;
    try {
      ws = new WebSocket(feedUrl(o.pageHref, o.lastSeq(), o.token));
    } catch {
      reconnectLater(0);
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      if (!o.ended()) o.onState('live');
      o.onNotice('');
    };
    ws.onmessage = (ev) => {
      if (socket !== ws || typeof ev.data !== 'string') return;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!m || typeof m !== 'object' || typeof m.seq !== 'number') return;
      const last = o.lastSeq();
      if (m.seq <= last) return; // already have it
      if (m.seq > last + 1) {
        // A gap should never happen; if it does, ask again from what we have.
        ws.close(4000, 'gap');
        return;
      }
      attempt = 0;
      o.onMessage(m);
      if (m.type === 'run-end') {
        stopped = true;
        o.onState('finished');
      }
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = (ev) => {
      if (socket !== ws) return;
      socket = null;
      if (o.ended() || ev.code === 1000) {
        stopped = true;
        o.onState('finished');
        o.onNotice(o.ended() ? '' : 'the server says the run is over');
        return;
      }
      reconnectLater(ev.code);
    };
  }

  function reconnectLater(code) {
    if (stopped || retryTimer) return;
    o.onState('connecting');
    const delay = retryDelay(attempt, code);
    attempt++;
    const why = code === 4001 ? 'fell behind' : code === 1001 ? 'server stopping' : 'connection lost';
    o.onNotice(`${why}${code ? ` (${code})` : ''}; retrying in ${(delay / 1000).toFixed(delay < 1000 ? 2 : 0)} s`);
    retryTimer = setTimeout(connect, delay);
  }

  // Back online: retry now rather than at the end of the back-off.
  window.addEventListener('online', () => {
    if (retryTimer && !stopped) {
      clearTimeout(retryTimer);
      connect();
    }
  });

  connect();
}
