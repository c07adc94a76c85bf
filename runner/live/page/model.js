// kunit-bridge live page, the model: what the feed (docs/live-protocol.md) has said so far, as a tree of
// nodes plus the run's start and end, and the figures the page shows from it (counts, progress, failures).
// Pure: no DOM, no timers, no network. `apply` a message, read the state, `takeChanges` to learn what to redraw.

const SEP = '\u001f';

/**
 * @typedef {{status: string, effect: string, shown: string, badge: string, rank: number,
 *   count: string | null, countLabel: string | null, summary: number}} StatusRule
 *   one row of the status rules (runner/ktap/status.ts, served to the page as status.js)
 */

/** The tables the page reads from the status rules. @param {ReadonlyArray<StatusRule>} rules */
export function statusTables(rules) {
  return {
    /** Statuses shown as failures: expanded by default, listed at the top. */
    FAILING: new Set(rules.filter((r) => r.shown === 'fail').map((r) => r.status)),
    /** status → badge text. */
    LABELS: Object.fromEntries([...rules.map((r) => [r.status, r.badge]), ['running', 'running']]),
    /** What a status does to the run (pass, neutral, fail, incomplete): the badge's colour. */
    EFFECT: Object.fromEntries([...rules.map((r) => [r.status, r.effect]), ['running', 'running']]),
    /** Counts beyond the four always shown (passed, failed, skipped, crashed): [field, label, status], in summary order. */
    MORE_COUNTS: rules
      .filter((r) => r.count && !['pass', 'fail', 'skip', 'crashed'].includes(r.status))
      .sort((a, b) => a.summary - b.summary)
      .map((r) => [r.count, r.countLabel, r.status]),
    /** status → the counts field a leaf adds to (none for no-tests). */
    FIELD: Object.fromEntries(rules.filter((r) => r.count).map((r) => [r.status, r.count])),
    /** Counts fields of statuses shown as failures. */
    FAILING_FIELDS: rules.filter((r) => r.shown === 'fail' && r.count).map((r) => r.count),
  };
}

export function emptyCounts() {
  return { total: 0, passed: 0, failed: 0, skipped: 0, todo: 0, xfail: 0, timeout: 0, errors: 0, crashed: 0, incomplete: 0, notRun: 0 };
}

/** A node with nodes below it, or a suite that has none yet. */
export function isGroup(n) {
  return n.children.length > 0 || n.leaf === false;
}

/** A node with something to show when opened besides its children: output, a crash, a location. */
export function hasBody(n) {
  return n.log.length > 0 || !!n.crash || !!n.location;
}

/** suite, test or param (a test's parameter case). */
export function kindOf(n) {
  if (n.depth === 1) return n.leaf === true ? 'test' : 'suite';
  return n.depth === 2 ? 'test' : 'param';
}

/** What changed since the last `takeChanges`: the parts of the page to bring up to date. */
function noChanges() {
  return { nodes: new Set(), header: false, failures: false, notes: false, structure: false };
}

/** The model of one run, fed message by message. @param {ReadonlyArray<StatusRule>} rules */
export function createModel(rules) {
  const tables = statusTables(rules);
  const { FAILING, FIELD } = tables;

  const run = {
    /** seq of the last message applied */ lastSeq: 0,
    /** @type {any} the run-start message */ start: null,
    /** @type {any} the run-end message */ end: null,
    /** Current KTAP document of each lane: the same suite in two documents is two nodes. */
    docByLane: new Map(),
    /** key → node */ nodes: new Map(),
    /** top-level nodes (suites), in arrival order */ roots: [],
    /** lane → innermost running node */ running: new Map(),
    diagnostics: [],
    /** a crash reported outside any test */ crash: null,
  };
  let changes = noChanges();

  function keyOf(lane, doc, path) {
    return `${lane}${SEP}${doc}${SEP}${path.join(SEP)}`;
  }

  /** `n` and its ancestors show something new (their counts), and so does the header. */
  function changed(n) {
    for (let p = n; p; p = p.parent) changes.nodes.add(p);
    changes.header = true;
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
          key,
          lane,
          doc,
          path: sub,
          name: sub[i - 1],
          depth: i,
          parent,
          pathText: sub.join('/'),
          pathLower: sub.join('/').toLowerCase(),
          children: [],
          status: 'running',
          leaf: undefined,
          durationMs: undefined,
          reason: undefined,
          location: undefined,
          crash: undefined,
          counts: undefined,
          plan: undefined,
          log: [],
          /** a node below it is shown failing */ failBelow: false,
          /** bumped whenever its log, crash or result changes */ bodyVersion: 0,
        };
        run.nodes.set(key, n);
        if (parent) parent.children.push(n);
        else run.roots.push(n);
        changes.structure = true;
      }
      parent = n;
    }
    return parent;
  }

  /**
   * A group's result line names it, as the parser does: a suite without `# Subtest:` (started as "") or
   * whose result line says another name. The lane's open group at that depth is the one the line closes;
   * it and the nodes below it take the new path (keeping their place in arrival order).
   */
  function renameOpenGroup(lane, path) {
    const n = run.running.get(lane);
    const name = path[path.length - 1];
    if (!n || n.depth !== path.length || n.name === name) return;
    if (n.path.slice(0, -1).join(SEP) !== path.slice(0, -1).join(SEP) || run.nodes.has(keyOf(lane, n.doc, path))) return;
    const order = [...run.nodes.values()];
    n.name = name;
    const repath = (x, parentPath) => {
      x.path = [...parentPath, x.name];
      x.pathText = x.path.join('/');
      x.pathLower = x.pathText.toLowerCase();
      x.key = keyOf(x.lane, x.doc, x.path);
      changes.nodes.add(x);
      for (const ch of x.children) repath(ch, x.path);
    };
    repath(n, path.slice(0, -1));
    run.nodes.clear();
    for (const x of order) run.nodes.set(x.key, x);
    changes.structure = true;
  }

  function setFailing(n) {
    for (let p = n.parent; p && !p.failBelow; p = p.parent) {
      p.failBelow = true;
      changes.nodes.add(p);
    }
    changes.failures = true;
  }

  /** Apply one feed message (already in order: its seq is the next one). */
  function apply(m) {
    if (typeof m.seq === 'number') run.lastSeq = m.seq;
    switch (m.type) {
      case 'run-start':
        run.start = m;
        changes.header = true;
        break;
      case 'document-start':
        run.docByLane.set(m.lane, m.document);
        break;
      case 'plan': {
        if (!Array.isArray(m.path) || m.path.length === 0) break;
        const n = ensure(m.lane, m.path);
        n.plan = m.count;
        changed(n);
        break;
      }
      case 'suite-start': {
        if (!Array.isArray(m.path) || m.path.length === 0) break;
        const n = ensure(m.lane, m.path);
        n.status = 'running';
        n.leaf = false;
        run.running.set(m.lane, n);
        changed(n);
        break;
      }
      case 'result': {
        if (!Array.isArray(m.path) || m.path.length === 0) break;
        renameOpenGroup(m.lane, m.path);
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
        changes.failures = true;
        changed(n);
        break;
      }
      case 'log': {
        if (!Array.isArray(m.path) || m.path.length === 0) break;
        const n = ensure(m.lane, m.path);
        n.log.push(String(m.text));
        n.bodyVersion++;
        changed(n);
        break;
      }
      case 'crash': {
        if (!Array.isArray(m.path) || m.path.length === 0) {
          run.crash = m.crash;
          changes.failures = true;
          changes.header = true;
          break;
        }
        const n = ensure(m.lane, m.path);
        n.crash = m.crash;
        n.bodyVersion++;
        changed(n);
        break;
      }
      case 'diagnostic':
        if (m.diagnostic) run.diagnostics.push(m.diagnostic);
        changes.notes = true;
        break;
      case 'run-end':
        run.end = m;
        run.running.clear();
        changes.header = true;
        changes.failures = true;
        break;
      default:
        // document-end and message types this page does not know: nothing to show.
        break;
    }
  }

  /** What changed since the last call (and forget it). */
  function takeChanges() {
    const c = changes;
    changes = noChanges();
    return c;
  }

  /** True when `apply` changed something not yet taken. */
  function hasChanges() {
    return changes.nodes.size > 0 || changes.header || changes.failures || changes.notes || changes.structure;
  }

  // ------------------------------------------------------------ figures

  function addCounts(c, d) {
    for (const k of Object.keys(c)) if (typeof d[k] === 'number') c[k] += d[k];
  }

  /** Leaf counts under `n` added to `c`: its final `counts` once it has them, else what its leaves say so far. */
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

  /** The counts of the tests below `n`. */
  function countsOf(n) {
    return countInto(emptyCounts(), n);
  }

  /** The run's counts: run-end's once it came, else the tree's so far. */
  function runCounts() {
    if (run.end?.counts) return run.end.counts;
    const c = emptyCounts();
    for (const r of run.roots) countInto(c, r);
    return c;
  }

  /** Suites done, and out of how many when the run knows (run-start's `suitesTotal`). */
  function progress() {
    const done = run.roots.filter((r) => r.status !== 'running').length;
    const total = run.start && typeof run.start.suitesTotal === 'number' ? run.start.suitesTotal : undefined;
    return { done, total };
  }

  /** The nodes to list as failures: failing, with nothing failing below them (that one is listed instead). */
  function failures() {
    const out = [];
    for (const n of run.nodes.values()) {
      if (!FAILING.has(n.status)) continue;
      if (n.children.some((ch) => ch.failBelow || FAILING.has(ch.status))) continue;
      out.push(n);
    }
    return out;
  }

  /**
   * The crash outside any test, if no test carries it: a crash a test carries is listed once, on that test
   * (the kernel crashed between two tests: the next is blamed).
   */
  function crashOutside() {
    const c = run.crash;
    if (!c || [...run.nodes.values()].some((n) => n.crash && n.crash.line === c.line)) return null;
    return c;
  }

  /** Why `n` failed, in one line: the reason on its result line, the crash, else its last line of output. */
  function whyFailed(n) {
    return n.reason || n.crash?.reason || (n.log.length ? n.log[n.log.length - 1] : '');
  }

  /** The flaky tests `run --repeat` found and the gate's lines (`--known`, `--baseline`), from run-end. */
  function flaky() {
    return run.end && Array.isArray(run.end.flaky) ? run.end.flaky : [];
  }
  function gate() {
    return run.end && Array.isArray(run.end.gate) ? run.end.gate : [];
  }

  return {
    run,
    tables,
    apply,
    takeChanges,
    hasChanges,
    isGroup,
    hasBody,
    kindOf,
    countsOf,
    runCounts,
    progress,
    failures,
    crashOutside,
    whyFailed,
    flaky,
    gate,
  };
}
