// kunit-bridge live page, the view: draws the model into index.html's elements — the tree of suites and
// tests, the header (counts, progress, verdict), the failures, flaky and gate lists, the parser notes —
// once per animation frame, and answers the reader: rows that open and close, the filter box, the keys.
// It reads the model and never changes it; what the reader opened lives here, beside each node's elements.

/** Lines of a test's output shown before a "show earlier lines" button. */
const LOG_TAIL = 500;

// ---------------------------------------------------------------- formatting

function fmtDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
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

function countsText(c, moreCounts) {
  const parts = [];
  if (c.passed) parts.push(`${c.passed} passed`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  if (c.crashed) parts.push(`${c.crashed} crashed`);
  for (const [f, label] of moreCounts) if (c[f]) parts.push(`${c[f]} ${label}`);
  return parts.join(' · ');
}

/**
 * The page's view of `model` (from model.js's createModel), drawn into `document` (index.html).
 * Call `schedule()` after the model changed; `setState` and `setNotice` show the connection.
 */
export function createView(document, model) {
  const { run, isGroup, hasBody, kindOf } = model;
  const { FAILING, LABELS, EFFECT, MORE_COUNTS, FAILING_FIELDS } = model.tables;

  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  const tree = $('tree');
  const filterBox = /** @type {HTMLInputElement} */ ($('filter'));
  const failuresOnly = /** @type {HTMLInputElement} */ ($('failures-only'));

  // ---------------------------------------------------------------- per-node view state

  /** node → its elements and what the reader did to it */
  const views = new WeakMap();
  function viewOf(n) {
    let v = views.get(n);
    if (!v) {
      v = {
        el: null,
        row: null,
        badge: null,
        nameEl: null,
        reasonEl: null,
        tagsEl: null,
        subEl: null,
        durEl: null,
        bodyEl: null,
        kidsEl: null,
        /** the reader opened (true) or closed (false) it; null: as its status says */ userOpen: null,
        /** the reader asked for the whole log */ showAllLog: false,
        /** what the body shows (bodyKey), null: nothing */ renderedBody: null,
        shownOpen: null,
        hidden: false,
      };
      views.set(n, v);
    }
    return v;
  }
  /** The body's content: the node's log, crash and location, and how much of the log the reader wants. */
  const bodyKey = (n, v) => `${n.bodyVersion}${v.showAllLog ? '+all' : ''}`;

  // ---------------------------------------------------------------- what to redraw

  /** Nodes to redraw, besides those the model changed. */
  const dirty = new Set();
  let headerDirty = true;
  let failuresDirty = true;
  let notesDirty = false;
  let filterDirty = false;

  /** `n` and its ancestors (their counts and open state) and the header, on the next frame. */
  function touch(n) {
    for (let p = n; p; p = p.parent) dirty.add(p);
    headerDirty = true;
    schedule();
  }

  let scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    // Background tabs get no animation frames: fall back to a timer so the page is current on return.
    if (document.hidden) setTimeout(flush, 250);
    else requestAnimationFrame(flush);
  }

  function flushNow() {
    scheduled = true;
    flush();
  }

  function flush() {
    if (!scheduled) return;
    scheduled = false;
    const changes = model.takeChanges();
    for (const n of changes.nodes) dirty.add(n);
    headerDirty ||= changes.header;
    failuresDirty ||= changes.failures;
    notesDirty ||= changes.notes;
    for (const n of dirty) {
      try {
        updateEl(n);
      } catch (err) {
        // One odd node must not freeze the whole page.
        console.error('kunit-bridge live: cannot render', n.pathText, err);
      }
    }
    dirty.clear();
    if (filterDirty || (changes.structure && filterActive())) {
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

  // ---------------------------------------------------------------- the tree

  function filterActive() {
    return filterBox.value.trim() !== '' || failuresOnly.checked;
  }

  function shouldOpen(n) {
    const v = viewOf(n);
    if (v.userOpen !== null) return v.userOpen;
    if (isGroup(n)) {
      if (filterActive()) return true;
      return n.status === 'running' || n.failBelow || FAILING.has(n.status);
    }
    return FAILING.has(n.status);
  }

  function createEl(n, v) {
    const node = el('div', 'node');
    node.setAttribute('role', 'treeitem');
    const row = el('div', 'row');
    row.tabIndex = 0;
    const twisty = el('span', 'twisty');
    twisty.setAttribute('aria-hidden', 'true');
    v.badge = el('span', 'badge');
    v.nameEl = el('span', 'name', n.name);
    v.reasonEl = el('span', 'reason');
    v.tagsEl = el('span', 'tags');
    v.subEl = el('span', 'sub');
    v.durEl = el('span', 'dur');
    row.append(twisty, v.badge, v.nameEl, v.reasonEl, v.tagsEl, v.subEl, v.durEl);
    v.bodyEl = el('div', 'body');
    v.kidsEl = el('div', 'kids');
    v.kidsEl.setAttribute('role', 'group');
    node.append(row, v.bodyEl, v.kidsEl);
    node.dataset.path = n.pathText;
    node.dataset.key = n.key;
    v.row = row;
    v.el = node;

    // Insert before the next sibling that is already on the page (arrival order).
    const container = n.parent ? viewOf(n.parent).kidsEl : tree;
    const siblings = n.parent ? n.parent.children : run.roots;
    let before = null;
    for (let i = siblings.indexOf(n) + 1; i < siblings.length; i++) {
      const sib = viewOf(siblings[i]).el;
      if (sib) {
        before = sib;
        break;
      }
    }
    container.insertBefore(node, before);
  }

  function renderBody(n, v) {
    const body = v.bodyEl;
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
      if (!v.showAllLog && lines.length > LOG_TAIL) {
        shown = lines.slice(-LOG_TAIL);
        const more = el('button', 'more', `show ${lines.length - LOG_TAIL} earlier lines`);
        more.type = 'button';
        more.addEventListener('click', () => {
          v.showAllLog = true;
          touch(n);
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
    v.renderedBody = bodyKey(n, v);
  }

  function updateEl(n) {
    const v = viewOf(n);
    if (!v.el) createEl(n, v);
    const node = v.el;
    if (node.dataset.key !== n.key) {
      // Renamed by its result line (model.js, renameOpenGroup).
      node.dataset.key = n.key;
      node.dataset.path = n.pathText;
      v.nameEl.textContent = n.name;
    }
    const ended = !!run.end;
    const status = n.status === 'running' && ended ? 'incomplete' : n.status;
    const kind = kindOf(n);
    if (node.dataset.status !== n.status) node.dataset.status = n.status;
    if (node.dataset.kind !== kind) node.dataset.kind = kind;
    node.classList.toggle('group', isGroup(n));
    node.classList.toggle('failing', FAILING.has(status));
    node.classList.toggle('fail-below', n.failBelow);
    node.classList.toggle('expandable', isGroup(n) || hasBody(n));
    v.badge.textContent = LABELS[status] || status;
    v.badge.dataset.status = status;
    v.badge.dataset.effect = EFFECT[status] || 'fail';

    v.reasonEl.textContent = n.reason ? n.reason : '';
    v.tagsEl.textContent = '';
    if (n.crash && !FAILING.has(status)) {
      const t = el('span', 'tag oops', n.crash.kind === 'oops' || n.crash.kind === 'bug' ? 'oops' : n.crash.kind || 'crash');
      t.title = n.crash.reason || '';
      v.tagsEl.append(t);
    }
    if (run.start && run.start.lanes > 1 && n.depth === 1) v.tagsEl.append(el('span', 'tag lane', `lane ${n.lane}`));

    if (isGroup(n)) {
      const c = model.countsOf(n);
      const done = c.total;
      v.subEl.textContent =
        n.status === 'running' ? `${done}${n.plan !== undefined ? ` / ${n.plan}` : ''} done` : countsText(c, MORE_COUNTS) || '';
    } else {
      v.subEl.textContent = '';
    }
    v.durEl.textContent = fmtDuration(n.durationMs);

    const open = shouldOpen(n) && (isGroup(n) || hasBody(n));
    if (open !== v.shownOpen) {
      v.shownOpen = open;
      node.classList.toggle('open', open);
      if (isGroup(n) || hasBody(n)) node.setAttribute('aria-expanded', String(open));
      else node.removeAttribute('aria-expanded');
    }
    if (open && v.renderedBody !== bodyKey(n, v)) renderBody(n, v);
    else if (!open && v.renderedBody !== null && v.renderedBody !== bodyKey(n, v)) {
      // Stale and closed: drop it, rebuild on open.
      v.bodyEl.textContent = '';
      v.renderedBody = null;
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
      const v = viewOf(n);
      if (v.el && v.hidden !== !vis) {
        v.hidden = !vis;
        v.el.hidden = !vis;
      }
      return vis;
    };
    for (const r of run.roots) visit(r);
    $('match-count').textContent = q || fo ? `${shown} of ${total} tests` : '';
  }

  // ---------------------------------------------------------------- the header

  function updateHeader() {
    const start = run.start;
    const md = start?.metadata || {};
    const setMeta = (id, value, max = 60) => {
      const d = $(id);
      const full = value === undefined || value === null || value === '' ? '—' : String(value);
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

    const c = model.runCounts();
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
      s.dataset.effect = EFFECT[cls];
      s.append(el('b', '', String(c[f])), document.createTextNode(` ${label}`));
      more.append(s);
    }
    $('tree').parentElement.classList.toggle('has-results', run.roots.length > 0);
    $('empty').hidden = run.roots.length > 0;

    // Progress: suites done out of the planned total, when the run knows it.
    const { done, total: totalSuites } = model.progress();
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
    p.classList.toggle(
      'has-failures',
      FAILING_FIELDS.some((f) => c[f] > 0),
    );

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
        line.append(
          el('span', 'spinner'),
          document.createTextNode(`${run.start && run.start.lanes > 1 ? `lane ${lane}: ` : ''}${n.path.join(' › ')}`),
        );
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

  // ---------------------------------------------------------------- failures, flaky, gate, notes

  /** A list section of plain lines from run-end (flaky tests, the gate's lines): hidden when empty. */
  function updateLines(lines, listId, sectionId) {
    const list = $(listId);
    list.textContent = '';
    for (const line of lines) list.append(el('li', 'fpath', String(line)));
    $(sectionId).hidden = lines.length === 0;
  }

  function updateFailures() {
    const flaky = model.flaky();
    updateLines(flaky, 'flaky-list', 'flaky');
    $('flaky-count').textContent = flaky.length ? `(${flaky.length})` : '';
    updateLines(model.gate(), 'gate-list', 'gate');

    const failures = model.failures();
    const list = $('failures-list');
    list.textContent = '';
    for (const n of failures) {
      const li = el('li');
      const a = el('a', '');
      a.href = '#';
      a.append(el('span', 'badge', LABELS[n.status] || n.status), el('span', 'fpath', n.path.join(' › ')));
      a.querySelector('.badge').dataset.status = n.status;
      a.querySelector('.badge').dataset.effect = EFFECT[n.status] || 'fail';
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        reveal(n);
      });
      li.append(a);
      const why = model.whyFailed(n);
      if (why) li.append(el('span', 'freason', why));
      list.append(li);
    }
    const outside = model.crashOutside();
    if (outside) {
      const li = el('li');
      li.append(el('span', 'badge', 'crash'), el('span', 'fpath', `outside any test: ${outside.reason || ''}`));
      li.querySelector('.badge').dataset.status = 'crashed';
      li.querySelector('.badge').dataset.effect = EFFECT.crashed;
      list.append(li);
    }
    const count = failures.length + (outside ? 1 : 0);
    $('failures').hidden = count === 0;
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

  // ---------------------------------------------------------------- the reader

  /** Open `n` and its ancestors, scroll to it and flash it (a click in the failures list). */
  function reveal(n) {
    for (let p = n.parent; p; p = p.parent) viewOf(p).userOpen = true;
    if (hasBody(n) || isGroup(n)) viewOf(n).userOpen = true;
    for (let p = n; p; p = p.parent) dirty.add(p);
    flushNow();
    const v = viewOf(n);
    if (v.el) {
      v.el.scrollIntoView({ block: 'center' });
      v.el.classList.remove('flash');
      void v.el.offsetWidth;
      v.el.classList.add('flash');
      v.row.focus({ preventScroll: true });
    }
  }

  function toggle(n) {
    if (!isGroup(n) && !hasBody(n)) return;
    viewOf(n).userOpen = !shouldOpen(n);
    touch(n);
    flushNow();
  }

  /** The node of a row element. */
  const nodeOfRow = (row) => run.nodes.get(row.parentElement.dataset.key);

  tree.addEventListener('click', (ev) => {
    const t = /** @type {HTMLElement} */ (ev.target);
    if (t.closest('button, a, summary, pre')) return;
    const row = t.closest('.row');
    if (!row) return;
    const n = nodeOfRow(row);
    if (n) toggle(n);
  });
  tree.addEventListener('keydown', (ev) => {
    const t = /** @type {HTMLElement} */ (ev.target);
    if (!t.classList.contains('row')) return;
    const n = nodeOfRow(t);
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
      if (isGroup(n) || hasBody(n)) viewOf(n).userOpen = true;
      dirty.add(n);
    }
    flushNow();
  });
  $('collapse-all').addEventListener('click', () => {
    for (const n of run.nodes.values()) {
      viewOf(n).userOpen = isGroup(n) || hasBody(n) ? false : null;
      dirty.add(n);
    }
    flushNow();
  });

  // ---------------------------------------------------------------- the connection

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
  /** The line beside the state: why the connection was lost and when it retries. */
  function setNotice(text) {
    $('conn').textContent = text;
  }
  /** Redraw the header on the next frame (its elapsed time stops with the connection). */
  function refreshHeader() {
    headerDirty = true;
    schedule();
  }

  return { schedule, setState, setNotice, refreshHeader };
}
