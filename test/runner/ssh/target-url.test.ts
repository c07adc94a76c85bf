import { describe, expect, test } from 'vitest';
import { parseTarget } from '../../../runner/ssh/target-url.js';

describe('--target URLs', () => {
  test('user, host, port', () => {
    expect(parseTarget('ssh://127.0.0.1:45622')).toEqual({
      user: 'root',
      host: '127.0.0.1',
      port: 45622,
      display: 'ssh://root@127.0.0.1:45622',
    });
    expect(parseTarget('ssh://pi@board1')).toEqual({ user: 'pi', host: 'board1', port: 22, display: 'ssh://pi@board1' });
    expect(parseTarget('ssh://root@[::1]:2222/')).toMatchObject({ host: '::1', port: 2222, display: 'ssh://root@[::1]:2222' });
  });

  test('bad ones are usage errors that say why', () => {
    expect(() => parseTarget('board1')).toThrow(/not an ssh:\/\/ URL/);
    expect(() => parseTarget('ssh://root:secret@board1')).toThrow(/KUNIT_BRIDGE_SSH_PASSWORD/);
    expect(() => parseTarget('ssh://root:secret@board1')).not.toThrow(/secret/);
    expect(() => parseTarget('ssh://board1:70000')).toThrow(/out of range/);
    expect(() => parseTarget('ssh://')).toThrow(/cannot read it/);
  });
});
