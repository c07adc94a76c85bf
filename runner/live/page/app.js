// kunit-bridge live page: follows the run's WebSocket feed (docs/live-protocol.md) and
// renders it. Plain browser JavaScript, no build step, no dependencies, no external network.
// Every message changes the model only; the DOM is brought up to date once per animation frame.
'use strict';

(() => {
  /** Statuses shown as failures: expanded by default, listed at the top. */
  const FAILING = new Set(['fail', 'crashed', 'timeout', 'error', 'incomplete']);
  const LABELS = {
    pass: 'pass', fail: 'fail', skip: 'skip', todo: 'todo', xfail: 'xfail', timeout: 'timeout',
    error: 'error', crashed: 'crash', incomplete: 'incomplete', 'not-run': 'not run',
    'no-tests': 'empty', running: 'running',
  };
  /** Counts beyond the four always shown: [field, label, status class]. */
  const MORE_COUNTS = [
    ['timeout', 'timed out', 'timeout'], ['errors', 'errors', 'error'], ['incomplete', 'incomplete', 'incomplete'],
    ['notRun', 'not run', 'not-run'], ['xfail', 'xfail', 'xfail'], ['todo', 'todo', 'todo'],
  ];
  const LOG_TAIL = 500;
  const SEP = '\u001f';

  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // ---------------------------------------------------------------- model

  const run = {
    lastSeq: 0,
    /** @type {any} */ start: null,
    /** @type {any} */ end: null,
    /** Current KTAP document of each lane: the same suite in two documents is two nodes. */
    docByLane: new Map(),
    /** key → node */ nodes: new Map(),
    /** top-level nodes (suites), in arrival order */ roots: [],
    /** lane → innermost running node */ running: new Map(),
    diagnostics: [],
    /** a crash reported outside any test */ crash: null,
  };

  const dirty = new Set();
  let headerDirty = true;
  let failuresDirty = true;
  let notesDirty = false;
  let filterDirty = false;
  let structureChanged = false;

  function keyOf(lane, doc, path) {
    return `${lane}${SEP}${doc}${SEP}${path.join(SEP)}`;
  }

  function markDirty(n) {
    for (let p = n; p; p = p.parent) dirty.add(p);
    headerDirty = true;
    schedule();
  }

  /** The node at `path` in `lane`'s current document, created (with its ancestors) if new. */
  function ensure(lane, path) {
    const doc = run.docByLane.get(lane) ?? 0;
    let parent = null;
    for (let i = 1; i <= path.length; i++) {
      const sub = path.slice(0, i);
      const key = keyOf(lane, doc, sub);
      let n = run.nodes.get(key);
      if (!n) {
        n = {
          key, lane, doc, path: sub, name: sub[i - 1], depth: i, parent,
          pathText: sub.join('/'), pathLower: sub.join('/').toLowerCase(),
          children: [], status: 'running', leaf: undefined, durationMs: undefined, reason: undefined,
          location: undefined, crash: undefined, counts: undefined, plan: undefined, log: [],
          failBelow: false, userOpen: null, showAllLog: false,
          el: null, row: null, badge: null, nameEl: null, reasonEl: null, tagsEl: null, subEl: null, durEl: null,
          bodyEl: null, kidsEl: null, bodyVersion: 0, renderedBody: -1, version: 0, shownOpen: null, hidden: false,
        };
        run.nodes.set(key, n);
        if (parent) parent.children.push(n);
        else run.roots.push(n);
        structureChanged = true;
      }
      parent = n;
    }
    return parent;
  }

  function setFailing(n) {
    for (let p = n.parent; p && !p.failBelow; p = p.parent) {
      p.failBelow = true;
      dirty.add(p);
    }
    failuresDirty = true;
  }

  function apply(m) {
    switch (m.type) {
      case 'run-start':
        run.start = m;
        headerDirty = true;
        break;
      case 'document-start':
        run.docByLane.set(m.lane, m.document);
        break;
      case 'plan': {
        if (!Array.isArray(m.path) || m.path.length === 0) break;
        const n = ensure(m.lane, m.path);
        n.plan = m.count;
        markDirty(n);
        break;
      }
      case 'suite-start': {
        if (!Array.isArray(m.path) || m.path.length === 0) break;
        const n = ensure(m.lane, m.path);
        n.status = 'running';
        n.leaf = false;
        run.running.set(m.lane, n);
        markDirty(n);
        break;
      }
      case 'result': {
        if (!Array.isArray(m.path) || m.path.length === 0) break;
        const n = ensure(m.lane, m.path);
        n.status = typeof m.status === 'string' ? m.status : 'error';
        n.leaf = m.leaf;
        n.durationMs = m.durationMs;
        n.reason = m.reason;
        n.location = m.location;
        if (m.crash) n.crash = m.crash;
        if (m.counts) n.counts = m.counts;
        if (Array.isArray(m.log)) n.log = m.log.slice();
        n.bodyVersion++;
        if (FAILING.has(n.status)) setFailing(n);
        if (run.running.get(m.lane) === n) {
          const p = n.parent;
          if (p && p.status === 'running') run.running.set(m.lane, p);
          else run.running.delete(m.lane);
        }
        failuresDirty = true;
        markDirty(n);
        break;
      }
      case 'log': {
        if (!Array.isArray(m.path) || m.path.length === 0) break;
        const n = ensure(m.lane, m.path);
        n.log.push(String(m.text));
        n.bodyVersion++;
        markDirty(n);
        break;
      }
      case 'crash': {
        if (!Array.isArray(m.path) || m.path.length === 0) {
          run.crash = m.crash;
          failuresDirty = true;
          headerDirty = true;
          schedule();
          break;
        }
        const n = ensure(m.lane, m.path);
        n.crash = m.crash;
        n.bodyVersion++;
        markDirty(n);
        break;
      }
      case 'diagnostic':
        if (m.diagnostic) run.diagnostics.push(m.diagnostic);
        notesDirty = true;
        schedule();
        break;
      case 'run-end':
        run.end = m;
        run.running.clear();
        headerDirty = true;
        failuresDirty = true;
        schedule();
        break;
      default:
        // document-end and message types this page does not know: nothing to show.
        break;
    }
  }

  // ---------------------------------------------------------------- counting

  function emptyCounts() {
    return { total: 0, passed: 0, failed: 0, skipped: 0, todo: 0, xfail: 0, timeout: 0, errors: 0, crashed: 0, incomplete: 0, notRun: 0 };
  }
  const FIELD = {
    pass: 'passed', fail: 'failed', skip: 'skipped', todo: 'todo', xfail: 'xfail', timeout: 'timeout',
    error: 'errors', crashed: 'crashed', incomplete: 'incomplete', 'not-run': 'notRun',
  };
  function addCounts(c, d) {
    for (const k of Object.keys(c)) if (typeof d[k] === 'number') c[k] += d[k];
  }
  /** Leaf counts under `n`: its final `counts` once it has them, else what its leaves say so far. */
  function countInto(c, n) {
    if (n.counts && n.status !== 'running') {
      addCounts(c, n.counts);
    } else if (n.children.length === 0) {
      const f = n.status === 'running' || n.leaf === false ? undefined : FIELD[n.status];
      if (f) {
        c.total++;
        c[f]++;
      }
    } else {
      for (const ch of n.children) countInto(c, ch);
    }
    return c;
  }
  function runCounts() {
    if (run.end && run.end.counts) return run.end.counts;
    const c = emptyCounts();
    for (const r of run.roots) countInto(c, r);
    return c;
  }

  // ---------------------------------------------------------------- formatting

  function fmtDuration(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '';
    if (ms < 1) return `${ms.toFixed(2)} ms`;
    if (ms < 10) return `${ms.toFixed(1)} ms`;
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  }
  function fmtElapsed(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
    const ss = String(s % 60).padStart(2, '0');
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }
  function countsText(c) {
    const parts = [];
    if (c.passed) parts.push(`${c.passed} passed`);
    if (c.failed) parts.push(`${c.failed} failed`);
    if (c.skipped) parts.push(`${c.skipped} skipped`);
    if (c.crashed) parts.push(`${c.crashed} crashed`);
    for (const [f, label] of MORE_COUNTS) if (c[f]) parts.push(`${c[f]} ${label}`);
    return parts.join(' · ');
  }

  // ---------------------------------------------------------------- rendering

  let scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    // Background tabs get no animation frames: fall back to a timer so the page is current on return.
    if (document.hidden) setTimeout(flush, 250);
    else requestAnimationFrame(flush);
  }

  const tree = $('tree');
  /** node key → node, for events on rows */
  const byKey = new Map();
  const filterBox = /** @type {HTMLInputElement} */ ($('filter'));
  const failuresOnly = /** @type {HTMLInputElement} */ ($('failures-only'));

  function filterActive() {
    return filterBox.value.trim() !== '' || failuresOnly.checked;
  }

  function kindOf(n) {
    if (n.depth === 1) return n.leaf === true ? 'test' : 'suite';
    return n.depth === 2 ? 'test' : 'param';
  }

  function isGroup(n) {
    return n.children.length > 0 || n.leaf === false;
  }

  function hasBody(n) {
    return n.log.length > 0 || !!n.crash || !!n.location;
  }

  function shouldOpen(n) {
    if (n.userOpen !== null) return n.userOpen;
    if (isGroup(n)) {
      if (filterActive()) return true;
      return n.status === 'running' || n.failBelow || FAILING.has(n.status);
    }
    return FAILING.has(n.status);
  }

  function createEl(n) {
    const node = el('div', 'node');
    node.setAttribute('role', 'treeitem');
    const row = el('div', 'row');
    row.tabIndex = 0;
    const twisty = el('span', 'twisty');
    twisty.setAttribute('aria-hidden', 'true');
    n.badge = el('span', 'badge');
    n.nameEl = el('span', 'name', n.name);
    n.reasonEl = el('span', 'reason');
    n.tagsEl = el('span', 'tags');
    n.subEl = el('span', 'sub');
    n.durEl = el('span', 'dur');
    row.append(twisty, n.badge, n.nameEl, n.reasonEl, n.tagsEl, n.subEl, n.durEl);
    n.bodyEl = el('div', 'body');
    n.kidsEl = el('div', 'kids');
    n.kidsEl.setAttribute('role', 'group');
    node.append(row, n.bodyEl, n.kidsEl);
    node.dataset.path = n.pathText;
    node.dataset.key = n.key;
    n.row = row;
    n.el = node;
    byKey.set(n.key, n);

    // Insert before the next sibling that is already on the page (arrival order).
    const container = n.parent ? n.parent.kidsEl : tree;
    const siblings = n.parent ? n.parent.children : run.roots;
    let before = null;
    for (let i = siblings.indexOf(n) + 1; i < siblings.length; i++) {
      if (siblings[i].el) {
        before = siblings[i].el;
        break;
      }
    }
    container.insertBefore(node, before);
  }

  function renderBody(n) {
    const body = n.bodyEl;
    body.textContent = '';
    if (n.location) {
      body.append(el('div', 'location', `at ${n.location.file}:${n.location.line}`));
    }
    if (n.log.length > 0) {
      const lines = n.log;
      const wrap = isGroup(n) ? el('details', 'group-log') : el('div', 'log-wrap');
      if (isGroup(n)) {
        wrap.append(el('summary', '', `output (${lines.length} line${lines.length === 1 ? '' : 's'})`));
      }
      let shown = lines;
      if (!n.showAllLog && lines.length > LOG_TAIL) {
        shown = lines.slice(-LOG_TAIL);
        const more = el('button', 'more', `show ${lines.length - LOG_TAIL} earlier lines`);
        more.type = 'button';
        more.addEventListener('click', () => {
          n.showAllLog = true;
          n.bodyVersion++;
          markDirty(n);
        });
        wrap.append(more);
      }
      wrap.append(el('pre', 'log', shown.join('\n')));
      body.append(wrap);
    }
    if (n.crash) {
      const c = n.crash;
      const box = el('div', 'crash');
      const head = el('div', 'crash-head');
      head.append(el('span', 'crash-kind', c.kind || 'crash'), document.createTextNode(` ${c.reason || ''}`));
      if (c.line) head.append(el('span', 'crash-line', ` (console line ${c.line})`));
      box.append(head);
      if (Array.isArray(c.trace) && c.trace.length > 0) box.append(el('pre', 'trace', c.trace.join('\n')));
      body.append(box);
    }
    n.renderedBody = n.bodyVersion;
  }

  function updateEl(n) {
    if (!n.el) createEl(n);
    const node = n.el;
    const ended = !!run.end;
    const status = n.status === 'running' && ended ? 'incomplete' : n.status;
    const kind = kindOf(n);
    if (node.dataset.status !== n.status) node.dataset.status = n.status;
    if (node.dataset.kind !== kind) node.dataset.kind = kind;
    node.classList.toggle('group', isGroup(n));
    node.classList.toggle('failing', FAILING.has(status));
    node.classList.toggle('fail-below', n.failBelow);
    node.classList.toggle('expandable', isGroup(n) || hasBody(n));
    n.badge.textContent = LABELS[status] || status;
    n.badge.dataset.status = status;

    n.reasonEl.textContent = n.reason ? n.reason : '';
    n.tagsEl.textContent = '';
    if (n.crash && !FAILING.has(status)) {
      const t = el('span', 'tag oops', n.crash.kind === 'oops' || n.crash.kind === 'bug' ? 'oops' : n.crash.kind || 'crash');
      t.title = n.crash.reason || '';
      n.tagsEl.append(t);
    }
    if (run.start && run.start.lanes > 1 && n.depth === 1) n.tagsEl.append(el('span', 'tag lane', `lane ${n.lane}`));

    if (isGroup(n)) {
      const c = countInto(emptyCounts(), n);
      const done = c.total;
      n.subEl.textContent = n.status === 'running'
        ? `${done}${n.plan !== undefined ? ` / ${n.plan}` : ''} done`
        : countsText(c) || '';
    } else {
      n.subEl.textContent = '';
    }
    n.durEl.textContent = fmtDuration(n.durationMs);

    const open = shouldOpen(n) && (isGroup(n) || hasBody(n));
    if (open !== n.shownOpen) {
      n.shownOpen = open;
      node.classList.toggle('open', open);
      if (isGroup(n) || hasBody(n)) node.setAttribute('aria-expanded', String(open));
      else node.removeAttribute('aria-expanded');
    }
    if (open && n.renderedBody !== n.bodyVersion) renderBody(n);
    else if (!open && n.renderedBody !== -1 && n.renderedBody !== n.bodyVersion) {
      // Stale and closed: drop it, rebuild on open.
      n.bodyEl.textContent = '';
      n.renderedBody = -1;
    }
  }

  function applyFilter() {
    const q = filterBox.value.trim().toLowerCase();
    const fo = failuresOnly.checked;
    let shown = 0;
    let total = 0;
    const visit = (n) => {
      let any = false;
      for (const ch of n.children) if (visit(ch)) any = true;
      const matchQ = !q || n.pathLower.includes(q);
      const failing = FAILING.has(n.status);
      let vis;
      if (n.children.length === 0) {
        vis = matchQ && (!fo || failing);
        if (!isGroup(n) || n.depth > 1) {
          total++;
          if (vis) shown++;
        }
      } else {
        vis = any || (fo && failing && matchQ);
      }
      if (n.el && n.hidden !== !vis) {
        n.hidden = !vis;
        n.el.hidden = !vis;
      }
      return vis;
    };
    for (const r of run.roots) visit(r);
    $('match-count').textContent = q || fo ? `${shown} of ${total} tests` : '';
  }

  function updateHeader() {
    const start = run.start;
    const md = (start && start.metadata) || {};
    const setMeta = (id, v, max = 60) => {
      const d = $(id);
      const full = v === undefined || v === null || v === '' ? '—' : String(v);
      // Long paths: keep their end, which names the kernel.
      const text = full.length > max ? `…${full.slice(-(max - 1))}` : full;
      if (d.textContent !== text) {
        d.textContent = text;
        d.title = full;
      }
    };
    setMeta('meta-kernel', md.kernel);
    setMeta('meta-arch', md.arch);
    setMeta('meta-accel', md.accel);
    setMeta('meta-lanes', start ? start.lanes : undefined);

    const c = runCounts();
    $('count-passed').textContent = String(c.passed);
    $('count-failed').textContent = String(c.failed);
    $('count-skipped').textContent = String(c.skipped);
    $('count-crashed').textContent = String(c.crashed);
    $('count-total').textContent = String(c.total);
    const more = $('count-more');
    more.textContent = '';
    for (const [f, label, cls] of MORE_COUNTS) {
      if (!c[f]) continue;
      const s = el('span', `count ${cls}`);
      s.append(el('b', '', String(c[f])), document.createTextNode(` ${label}`));
      more.append(s);
    }
    $('tree').parentElement.classList.toggle('has-results', run.roots.length > 0);
    $('empty').hidden = run.roots.length > 0;

    // Progress: suites done out of the planned total, when the run knows it.
    const done = run.roots.filter((r) => r.status !== 'running').length;
    const totalSuites = start && typeof start.suitesTotal === 'number' ? start.suitesTotal : undefined;
    const p = $('progress');
    const bar = $('progress-bar');
    const label = $('progress-label');
    p.dataset.done = String(done);
    p.setAttribute('aria-valuenow', String(done));
    if (run.end) {
      p.classList.remove('indeterminate');
      p.dataset.verdict = run.end.verdict;
      p.dataset.total = String(totalSuites ?? done);
      p.setAttribute('aria-valuemax', String(totalSuites ?? done));
      bar.style.width = '100%';
      label.textContent = totalSuites !== undefined ? `${done} / ${totalSuites} suites` : `${done} suite${done === 1 ? '' : 's'} done`;
    } else if (totalSuites !== undefined && totalSuites > 0) {
      p.classList.remove('indeterminate');
      p.dataset.total = String(totalSuites);
      p.setAttribute('aria-valuemax', String(totalSuites));
      bar.style.width = `${Math.min(100, (100 * done) / totalSuites).toFixed(1)}%`;
      label.textContent = `${done} / ${totalSuites} suites`;
    } else {
      p.classList.add('indeterminate');
      delete p.dataset.total;
      p.removeAttribute('aria-valuemax');
      bar.style.width = '';
      label.textContent = start || run.roots.length ? `${done} suite${done === 1 ? '' : 's'} done` : 'waiting for the run…';
    }
    p.classList.toggle('has-failures', c.failed + c.crashed + c.timeout + c.errors + c.incomplete > 0);

    // Verdict and state.
    const verdict = $('verdict');
    if (run.end) {
      verdict.textContent = `${run.end.verdict}${typeof run.end.exitCode === 'number' ? ` (exit ${run.end.exitCode})` : ''}`;
      verdict.dataset.verdict = run.end.verdict;
    } else {
      verdict.textContent = 'running';
      verdict.dataset.verdict = '';
    }

    const running = $('running');
    running.textContent = '';
    if (!run.end) {
      for (const [lane, n] of run.running) {
        const line = el('span', 'now');
        line.append(el('span', 'spinner'), document.createTextNode(`${run.start && run.start.lanes > 1 ? `lane ${lane}: ` : ''}${n.path.join(' › ')}`));
        running.append(line);
      }
    }
    updateElapsed();
    document.title = run.end
      ? `${run.end.verdict === 'passed' ? '✓' : '✗'} ${run.end.verdict} · kunit-bridge live`
      : `${totalSuites ? `${done}/${totalSuites}` : `${c.total} tests`} · kunit-bridge live`;
  }

  function updateElapsed() {
    const e = $('elapsed');
    if (!run.start || typeof run.start.time !== 'number') {
      e.textContent = '';
      return;
    }
    const endTime = run.end && typeof run.end.time === 'number' ? run.end.time : Date.now();
    e.textContent = fmtElapsed(endTime - run.start.time);
  }
  setInterval(() => {
    if (run.start && !run.end) updateElapsed();
  }, 1000);

  /** The flaky tests `run --repeat` found, from run-end. */
  function updateFlaky() {
    const flaky = (run.end && Array.isArray(run.end.flaky)) ? run.end.flaky : [];
    const list = $('flaky-list');
    list.textContent = '';
    for (const f of flaky) list.append(el('li', 'fpath', String(f)));
    $('flaky-count').textContent = flaky.length ? `(${flaky.length})` : '';
    $('flaky').hidden = flaky.length === 0;
  }

  /** The gate's lines (`--known`, `--baseline`), from run-end. */
  function updateGate() {
    const lines = (run.end && Array.isArray(run.end.gate)) ? run.end.gate : [];
    const list = $('gate-list');
    list.textContent = '';
    for (const l of lines) list.append(el('li', 'fpath', String(l)));
    $('gate').hidden = lines.length === 0;
  }

  function updateFailures() {
    updateFlaky();
    updateGate();
    const section = $('failures');
    const list = $('failures-list');
    const failures = [];
    for (const n of run.nodes.values()) {
      if (!FAILING.has(n.status)) continue;
      if (n.children.some((ch) => ch.failBelow || FAILING.has(ch.status))) continue;
      failures.push(n);
    }
    list.textContent = '';
    for (const n of failures) {
      const li = el('li');
      const a = el('a', '');
      a.href = '#';
      a.append(el('span', 'badge', LABELS[n.status] || n.status), el('span', 'fpath', n.path.join(' › ')));
      a.querySelector('.badge').dataset.status = n.status;
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        reveal(n);
      });
      li.append(a);
      // Why: the reason on its result line, the crash, else its last line of output (often the assertion).
      const why = n.reason || (n.crash && n.crash.reason) || (n.log.length ? n.log[n.log.length - 1] : '');
      if (why) li.append(el('span', 'freason', why));
      list.append(li);
    }
    if (run.crash) {
      const li = el('li');
      li.append(el('span', 'badge', 'crash'), el('span', 'fpath', `outside any test: ${run.crash.reason || ''}`));
      li.querySelector('.badge').dataset.status = 'crashed';
      list.append(li);
    }
    const count = failures.length + (run.crash ? 1 : 0);
    section.hidden = count === 0;
    $('failures-count').textContent = `(${count})`;
  }

  function updateNotes() {
    const d = run.diagnostics;
    $('notes').hidden = d.length === 0;
    $('notes-count').textContent = `(${d.length})`;
    const list = $('notes-list');
    list.textContent = '';
    for (const x of d) {
      const li = el('li', `note ${x.severity || 'info'}`);
      li.append(el('span', 'code', x.code || 'note'), document.createTextNode(` ${x.message || ''}`));
      if (x.line) li.append(el('span', 'line', ` (line ${x.line})`));
      list.append(li);
    }
  }

  function reveal(n) {
    for (let p = n.parent; p; p = p.parent) p.userOpen = true;
    if (hasBody(n) || isGroup(n)) n.userOpen = true;
    for (let p = n; p; p = p.parent) dirty.add(p);
    flushNow();
    if (n.el) {
      n.el.scrollIntoView({ block: 'center' });
      n.el.classList.remove('flash');
      void n.el.offsetWidth;
      n.el.classList.add('flash');
      n.row.focus({ preventScroll: true });
    }
  }

  function flushNow() {
    scheduled = true;
    flush();
  }

  function flush() {
    if (!scheduled) return;
    scheduled = false;
    const wasStructure = structureChanged;
    structureChanged = false;
    for (const n of dirty) {
      try {
        updateEl(n);
      } catch (err) {
        // One odd node must not freeze the whole page.
        console.error('kunit-bridge live: cannot render', n.pathText, err);
      }
    }
    dirty.clear();
    if (filterDirty || (wasStructure && filterActive())) {
      filterDirty = false;
      applyFilter();
    }
    if (headerDirty) {
      headerDirty = false;
      updateHeader();
    }
    if (failuresDirty) {
      failuresDirty = false;
      updateFailures();
    }
    if (notesDirty) {
      notesDirty = false;
      updateNotes();
    }
    // For tests and scripts: the last message the page shows, and the state it shows it in.
    document.body.dataset.seq = String(run.lastSeq);
    renderState();
  }

  // ---------------------------------------------------------------- interaction

  function toggle(n) {
    if (!isGroup(n) && !hasBody(n)) return;
    n.userOpen = !shouldOpen(n);
    markDirty(n);
    flushNow();
  }

  tree.addEventListener('click', (ev) => {
    const t = /** @type {HTMLElement} */ (ev.target);
    if (t.closest('button, a, summary, pre')) return;
    const row = t.closest('.row');
    if (!row) return;
    const n = byKey.get(row.parentElement.dataset.key);
    if (n) toggle(n);
  });
  tree.addEventListener('keydown', (ev) => {
    const t = /** @type {HTMLElement} */ (ev.target);
    if (!t.classList.contains('row')) return;
    const n = byKey.get(t.parentElement.dataset.key);
    if (!n) return;
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      toggle(n);
    } else if (ev.key === 'ArrowRight' && !shouldOpen(n)) {
      ev.preventDefault();
      toggle(n);
    } else if (ev.key === 'ArrowLeft' && shouldOpen(n)) {
      ev.preventDefault();
      toggle(n);
    } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const rows = [...tree.querySelectorAll('.row')].filter((r) => r.offsetParent !== null);
      const i = rows.indexOf(t);
      const next = rows[i + (ev.key === 'ArrowDown' ? 1 : -1)];
      if (next) /** @type {HTMLElement} */ (next).focus();
    }
  });

  function refilter() {
    filterDirty = true;
    // Groups open themselves to show matches while a filter is on: re-evaluate every node.
    for (const n of run.nodes.values()) dirty.add(n);
    schedule();
  }
  let filterTimer = 0;
  filterBox.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(refilter, 60);
  });
  filterBox.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      filterBox.value = '';
      refilter();
    }
  });
  failuresOnly.addEventListener('change', refilter);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === '/' && document.activeElement !== filterBox && !(ev.target instanceof HTMLInputElement)) {
      ev.preventDefault();
      filterBox.focus();
    }
  });
  $('expand-all').addEventListener('click', () => {
    for (const n of run.nodes.values()) {
      if (isGroup(n) || hasBody(n)) n.userOpen = true;
      dirty.add(n);
    }
    flushNow();
  });
  $('collapse-all').addEventListener('click', () => {
    for (const n of run.nodes.values()) {
      n.userOpen = isGroup(n) || hasBody(n) ? false : null;
      dirty.add(n);
    }
    flushNow();
  });

  // ---------------------------------------------------------------- connection

  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  let socket = null;
  let attempt = 0;
  let retryTimer = 0;
  let stopped = false;

  /** The connection state, shown with the next render so that the DOM agrees with it. */
  let wantState = 'connecting';
  function setState(s) {
    wantState = s;
    schedule();
  }
  function renderState() {
    if (document.body.dataset.state === wantState) return;
    document.body.dataset.state = wantState;
    $('state').textContent = wantState === 'connecting' ? 'connecting…' : wantState;
  }
  function setConn(text) {
    $('conn').textContent = text;
  }

  function feedUrl() {
    const u = new URL('feed', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = '';
    u.hash = '';
    u.searchParams.set('from', String(run.lastSeq));
    if (token) u.searchParams.set('token', token);
    return u.href;
  }

  function connect() {
    retryTimer = 0;
    if (stopped) return;
    if (!run.end) setState('connecting');
    let ws;
    try {
      ws = new WebSocket(feedUrl());
    } catch {
      reconnectLater(0);
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      if (!run.end) setState('live');
      setConn('');
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
      if (m.seq <= run.lastSeq) return; // already have it
      if (m.seq > run.lastSeq + 1) {
        // A gap should never happen; if it does, ask again from what we have.
        ws.close(4000, 'gap');
        return;
      }
      attempt = 0;
      run.lastSeq = m.seq;
      apply(m);
      if (m.type === 'run-end') {
        stopped = true;
        setState('finished');
      }
    };
    ws.onerror = () => { /* a close event follows */ };
    ws.onclose = (ev) => {
      if (socket !== ws) return;
      socket = null;
      if (run.end || ev.code === 1000) {
        stopped = true;
        setState('finished');
        setConn(run.end ? '' : 'the server says the run is over');
        headerDirty = true;
        schedule();
        return;
      }
      if (ev.code === 4002) {
        stopped = true;
        setConn('the server refused the feed request (4002)');
        return;
      }
      reconnectLater(ev.code);
    };
  }

  function reconnectLater(code) {
    if (stopped || retryTimer) return;
    setState('connecting');
    // 250 ms, 500 ms, 1 s, … up to 10 s, with jitter; a stopping server (1001) gets a slower start.
    const base = Math.min(10000, 250 * 2 ** attempt) * (code === 1001 ? 4 : 1);
    const delay = Math.round(Math.min(10000, base) * (0.8 + Math.random() * 0.4));
    attempt++;
    const why = code === 4001 ? 'fell behind' : code === 1001 ? 'server stopping' : 'connection lost';
    setConn(`${why}${code ? ` (${code})` : ''}; retrying in ${(delay / 1000).toFixed(delay < 1000 ? 2 : 0)} s`);
    retryTimer = setTimeout(connect, delay);
  }

  window.addEventListener('online', () => {
    if (retryTimer && !stopped) {
      clearTimeout(retryTimer);
      connect();
    }
  });

  schedule();
  connect();
})();
