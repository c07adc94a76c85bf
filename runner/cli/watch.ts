/** `kunit-bridge watch ws://HOST:PORT`: follow a `run --serve` from another terminal. */
import type { Command } from 'commander';
import { colorFor, colorOption, type CommonFlags } from './options.js';

interface WatchFlags extends CommonFlags {
  token?: string;
}

export function registerWatch(program: Command, setExit: (code: number) => void): void {
  program
    .command('watch')
    .description('follow a run served with `run --serve`: the same live view, reconnecting by itself')
    .argument('<address>', 'the feed: ws://HOST:PORT (as printed by run --serve)')
    .option('--token <token>', 'the token the run printed (needed when it is bound beyond loopback)')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(colorOption('output'))
    .action(async (address: string, flags: WatchFlags) => {
      const [{ watchCommand }, { liveView }] = await Promise.all([import('../commands/watch.js'), import('../commands/run-view.js')]);
      const view = liveView({
        quiet: flags.quiet === true,
        tty: process.stdout.isTTY === true,
        color: colorFor(flags.color),
        write: (t) => {
          process.stdout.write(t);
        },
      });
      const code = await watchCommand({
        url: address,
        ...(flags.token !== undefined ? { token: flags.token } : {}),
        onStart: (lanes, suitesTotal) => view.onStart(lanes, suitesTotal),
        onEvent: (e, lane) => view.onEvent(e, lane),
        onEnd: (result, flaky, gate) => view.finish(result, flaky, gate),
      });
      setExit(code);
    });
}
