/** The agent's command line, as runner/agent/boot.ts builds it. */
import { expect, test } from 'vitest';
import { parseArgs } from '../../agent/args.js';
import { agentInitArgs } from '../../runner/agent/boot.js';

test('the words init passes after the script, as boot.ts builds them', () => {
  const argv = agentInitArgs(
    { init: '/pkg/agent/init.sh', main: '/pkg/dist/agent/main.js' },
    '/usr/bin/node',
    40123,
    '/tmp/kb/channel-1.token',
  );
  expect(parseArgs(argv.slice(3))).toEqual({ host: '10.0.2.2', port: 40123, tokenFile: '/tmp/kb/channel-1.token' });
});

test('defaults: the QEMU user network host, port 0, no token file', () => {
  expect(parseArgs([])).toEqual({ host: '10.0.2.2', port: 0, tokenFile: '' });
});

test('pairs in any order; a later pair wins; unknown names ignored; a name without a value dropped', () => {
  expect(parseArgs(['--port', '1', '--colour', 'red', '--host', '127.0.0.1', '--port', '2', '--token-file'])).toEqual({
    host: '127.0.0.1',
    port: 2,
    tokenFile: '',
  });
});

test('a port that is not a number stays NaN (the connection then fails and is said on the console)', () => {
  expect(parseArgs(['--port', 'x']).port).toBeNaN();
});
