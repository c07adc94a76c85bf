/**
 * The agent's command line (built by `runner/agent/boot.ts` `agentInitArgs`):
 *
 *   --host 10.0.2.2 --port P --token-file F
 *
 * Words are taken in pairs, `--name value`; an unknown name is ignored, a
 * name without a value is dropped, a later pair wins. Pure.
 */

export interface AgentArgs {
  /** The runner's address as the guest sees it. Default `10.0.2.2` (QEMU's user network). */
  host: string;
  /** The runner's port. Default 0 (no value: the connection fails and is retried, and said on the console). */
  port: number;
  /** The file that holds the channel's token. Default `''` (reading it fails: the agent exits 1). */
  tokenFile: string;
}

/** `words`: the arguments after the script (`process.argv.slice(2)`). */
export function parseArgs(words: readonly string[]): AgentArgs {
  const pairs = new Map<string, string>();
  for (let i = 0; i + 1 < words.length; i += 2) pairs.set(words[i]!.replace(/^--/, ''), words[i + 1]!);
  return {
    host: pairs.get('host') ?? '10.0.2.2',
    port: Number(pairs.get('port') ?? 0),
    tokenFile: pairs.get('token-file') ?? '',
  };
}
