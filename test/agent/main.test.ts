/** The agent's start on the host (no guest needed for what happens before /dev/kmsg): the token file. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { REPO } from '../helpers/corpus.js';

test.each(['dist/agent/main.js', 'dist/agent/agent.cjs'])(
  'without a readable token file the agent (%s) says so on the console and exits 1 (init then reports agent-exit)',
  (entry) => {
    const r = spawnSync(
      process.execPath,
      [join(REPO, entry), '--host', '127.0.0.1', '--port', '1', '--token-file', '/nonexistent/channel-1.token'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "kunit-bridge-agent: error: cannot read the token file: ENOENT: no such file or directory, open '/nonexistent/channel-1.token'\n",
    );
  },
);

test("importing the agent's modules runs nothing: only main.js has side effects", () => {
  const modules = ['args', 'agent', 'steps', 'kernel-log', 'kmsg', 'outbox', 'protocol'].map((m) => join(REPO, `dist/agent/${m}.js`));
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `for (const m of ${JSON.stringify(modules)}) await import(m); console.log('imported');`],
    { encoding: 'utf8', timeout: 20_000 },
  );
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('imported\n');
  expect(r.status).toBe(0);
});
