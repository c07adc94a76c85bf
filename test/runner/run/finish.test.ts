import { describe, expect, test } from 'vitest';
import { parseLog } from '../../../runner/ktap/index.js';
import { emptyCounts } from '../../../runner/ktap/model.js';
import { emptyShardResult, freshTimings, sumAgentMetadata } from '../../../runner/run/finish.js';

describe("the lanes' agent figures", () => {
  test('summed, the state the worst lane’s', () => {
    expect(
      sumAgentMetadata([
        { agent: 'finished', agentLines: '10', agentConnects: '1', agentDuplicatesIgnored: '0' },
        { agent: 'lost', agentLines: '5', agentConnects: '2', agentDuplicatesIgnored: '3' },
      ]),
    ).toEqual({ agent: 'lost', agentLines: '15', agentConnects: '3', agentDuplicatesIgnored: '3' });
  });
  test('a lane whose agent never said hello makes the run’s "not started"', () => {
    expect(sumAgentMetadata([{ agent: 'finished' }, {}]).agent).toBe('not started');
    expect(sumAgentMetadata([{ agent: 'finished' }, { agent: 'finished' }]).agent).toBe('finished');
  });
  test('cuts and refusals appear only when a lane had some', () => {
    const none = sumAgentMetadata([{ agent: 'finished' }, { agent: 'finished' }]);
    expect(none).not.toHaveProperty('agentCuts');
    expect(none).not.toHaveProperty('agentRefused');
    const some = sumAgentMetadata([{ agentCuts: '2' }, { agentCuts: '1', agentRefused: '4' }]);
    expect(some.agentCuts).toBe('3');
    expect(some.agentRefused).toBe('4');
  });
});

test('fresh timings: the top-level suites that ran and have a duration', () => {
  // Printk timestamps give the suites their durations; the skipped suite has none that counts as run.
  const log = [
    '[    1.000000] KTAP version 1',
    '[    1.000000] 1..2',
    '[    1.000000]     KTAP version 1',
    '[    1.000000]     # Subtest: alpha',
    '[    1.000000]     1..1',
    '[    1.250000]     ok 1 t1',
    '[    1.500000] ok 1 alpha',
    '[    1.600000]     KTAP version 1',
    '[    1.600000]     # Subtest: beta',
    '[    1.600000]     1..1',
    '[    1.700000]     ok 1 t1',
    '[    1.800000] ok 2 beta',
    '',
  ].join('\n');
  const result = parseLog(log);
  const fresh = freshTimings(result);
  expect(Object.keys(fresh).sort()).toEqual(['alpha', 'beta']);
  for (const ms of Object.values(fresh)) expect(ms).toBeGreaterThan(0);
  result.documents[0]!.tests[1]!.status = 'not-run';
  expect(Object.keys(freshTimings(result))).toEqual(['alpha']);
});

test('an empty shard passed with nothing counted', () => {
  const r = emptyShardResult();
  expect(r.verdict).toBe('passed');
  expect(r.counts).toEqual(emptyCounts());
  expect(r.documents).toEqual([]);
});
