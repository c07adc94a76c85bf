/**
 * startLive: a run's end as `watch` sees it, the flaky tests of a repeated run included.
 */
import { expect, test } from 'vitest';
import { startLive } from '../../../runner/live/serve.js';
import { watchCommand } from '../../../runner/commands/watch.js';
import type { RunResult } from '../../../runner/ktap/model.js';
import { repeatedResult } from '../../helpers/sample-result.js';

test('run-end carries the flaky tests; watch hands them to its summary', async () => {
  const said: string[] = [];
  const live = await startLive('0', undefined, (l) => said.push(l));
  const url = /ws:\/\/[^\s]+/.exec(said.join('\n'))?.[0];
  expect(url, said.join('\n')).toBeDefined();
  let ended: { result: RunResult; flaky: string[] } | undefined;
  const watching = watchCommand({
    url: url!,
    onEvent: () => {},
    onEnd: (result, flaky) => {
      ended = { result, flaky };
    },
  });
  const result = repeatedResult();
  // The feed replays: a watcher that connects during the linger still gets run-end.
  await live.finish({ result, outputDir: '/out' }, 1, 2000);
  expect(await watching).toBe(1);
  expect(ended?.flaky).toEqual(['s.sometimes (1/3 failed)']);
  expect(ended?.result.counts).toEqual(result.counts);
});
