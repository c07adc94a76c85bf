// kunit-bridge live page: follows the run's WebSocket feed (docs/live-protocol.md) and renders it.
// Plain browser JavaScript modules, no build step, no dependencies, no external network:
//   model.js   the run so far, from the feed's messages (pure: no DOM)
//   view.js    draws the model into index.html, once per animation frame, and answers the reader
//   socket.js  the WebSocket: in-order messages, reconnects with from=
// This file wires them: every message changes the model only; the view then brings the DOM up to date.

// Behind a token the server wants it on every request, this page's modules too: import them with the
// query this file was loaded with (index.html passes ?token= on), not by a static import without it.
const query = new URL(import.meta.url).search;
const [{ createModel }, { createView }, { followFeed }] = await Promise.all([
  import(`./model.js${query}`),
  import(`./view.js${query}`),
  import(`./socket.js${query}`),
]);

// The status rules, from runner/ktap/status.ts (status.js is generated from it, loaded first).
const model = createModel(/** @type {any} */ (globalThis).KUNIT_BRIDGE_STATUS);
const view = createView(document, model);

view.schedule();
followFeed({
  pageHref: location.href,
  token: new URLSearchParams(location.search).get('token'),
  lastSeq: () => model.run.lastSeq,
  ended: () => !!model.run.end,
  onMessage: (m) => {
    model.apply(m);
    if (model.hasChanges()) view.schedule();
  },
  onState: (s) => {
    view.setState(s);
    if (s === 'finished') view.refreshHeader();
  },
  onNotice: view.setNotice,
});
