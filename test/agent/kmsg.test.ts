import { describe, expect, test } from 'vitest';
import { consoleLines, parseKmsgRecord, unescapeKmsg } from '../../agent/kmsg.js';
import { printkMicros } from '../../runner/agent/join.js';
import { readAgentLines, readConsoleLines } from '../helpers/agent-run.js';

/** What the kernel does to a record's text for /dev/kmsg: `\`, control bytes and non-ASCII bytes become `\xNN`. */
function escapeKmsg(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    out += b < 0x20 || b >= 0x7f || b === 0x5c ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}

describe('parseKmsgRecord', () => {
  test('a record with dictionary lines after its text', () => {
    expect(
      parseKmsgRecord('6,123,5028290,-;virtio-pci 0000:00:02.0: enabling device\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:02.0\n'),
    ).toEqual({
      level: 6,
      facility: 0,
      seq: 123,
      usec: 5028290,
      flags: '-',
      text: 'virtio-pci 0000:00:02.0: enabling device',
    });
  });

  test('priority splits into facility and level; extra header fields are not the flags', () => {
    // <14> is what the agent writes its markers with: facility user (1), level info (6).
    expect(parseKmsgRecord('14,2318,6688394,c,caller=T1;kunit-bridge: done steps=47\n')).toMatchObject({
      level: 6,
      facility: 1,
      seq: 2318,
      usec: 6688394,
      flags: 'c',
      text: 'kunit-bridge: done steps=47',
    });
  });

  test('\\x0a makes a multi-line text, \\x5c a backslash, escaped UTF-8 bytes a character', () => {
    expect(parseKmsgRecord('4,7,912033,-;IP-Config: Complete:\\x0a     device=eth0\n')!.text).toBe(
      'IP-Config: Complete:\n     device=eth0',
    );
    expect(parseKmsgRecord('6,8,1,-;C:\\x5cpath\\x5cfile\n')!.text).toBe('C:\\path\\file');
    expect(parseKmsgRecord('6,9,1,-;caf\\xc3\\xa9 \\xe2\\x9c\\x93\n')!.text).toBe('café ✓');
    expect(parseKmsgRecord('6,10,1,-;tab\\x09end')!.text).toBe('tab\tend');
  });

  test('an escaped backslash followed by "x41" stays literal (unescaped once only)', () => {
    expect(unescapeKmsg('\\x5cx41')).toBe('\\x41');
    expect(unescapeKmsg('no escapes here')).toBe('no escapes here');
  });

  test('garbage is undefined, not an exception', () => {
    for (const raw of ['', 'hello world', 'a,b,c,-;text', '6,x,100,-;text', '6,1,1.5,-;text', '6;text']) {
      expect(parseKmsgRecord(raw), raw).toBeUndefined();
    }
  });
});

describe('consoleLines', () => {
  const record = (usec: number, text: string) => ({ level: 6, facility: 0, seq: 1, usec, flags: '-', text });

  test('the console timestamp: seconds padded to 5, microseconds to 6', () => {
    expect(consoleLines(record(5028290, 'x'))).toEqual(['[    5.028290] x']);
    expect(consoleLines(record(0, 'x'))).toEqual(['[    0.000000] x']);
    expect(consoleLines(record(12_000_001, 'x'))).toEqual(['[   12.000001] x']);
    expect(consoleLines(record(123456_789012, 'x'))).toEqual(['[123456.789012] x']);
  });

  test('a multi-line record gives one line per line of text, each with the same prefix', () => {
    expect(
      consoleLines(parseKmsgRecord('6,42,912033,-;IP-Config: Complete:\\x0a     device=eth0\\x0a     nameserver0=10.0.2.3\n')!),
    ).toEqual(['[    0.912033] IP-Config: Complete:', '[    0.912033]      device=eth0', '[    0.912033]      nameserver0=10.0.2.3']);
    expect(consoleLines(record(1, 'trailing newline\n'))).toEqual(['[    0.000001] trailing newline']);
    expect(consoleLines(record(1, ''))).toEqual(['[    0.000001] ']);
  });
});

describe('the recorded run', () => {
  const agent = readAgentLines();
  const serial = readConsoleLines();

  test('every agent line survives the trip through /dev/kmsg: escaped, parsed, rendered back', () => {
    agent.forEach((line, i) => {
      const m = /^\[\s*(\d+)\.(\d{6})\] ([\s\S]*)$/.exec(line);
      expect(m, line).not.toBeNull();
      const raw = `6,${i},${Number(m![1]) * 1e6 + Number(m![2])},-;${escapeKmsg(m![3]!)}\n SUBSYSTEM=x\n`;
      expect(consoleLines(parseKmsgRecord(raw)!)).toEqual([line]);
    });
  });

  test("the console's printk lines are the agent's lines, in the same order (the join relies on it)", () => {
    const printk = serial.filter((l) => printkMicros(l) !== undefined && !/^\[[^\]]*\] reboot: /.test(l));
    let j = 0;
    for (const line of printk) {
      while (j < agent.length && agent[j] !== line) j++;
      expect(j, `console line not in the agent's lines, in order: ${line}`).toBeLessThan(agent.length);
      j++;
    }
    // The agent has a few KERN_DEBUG records more; nothing else differs.
    expect(agent.length - printk.length).toBe(8);
    // And what the console has besides are init's and the agent's own messages, and the reboot.
    expect(serial.filter((l) => printkMicros(l) === undefined).every((l) => /^kunit-bridge-(init|agent): /.test(l))).toBe(true);
    expect(serial.filter((l) => / reboot: /.test(l))).toHaveLength(2);
  });
});
