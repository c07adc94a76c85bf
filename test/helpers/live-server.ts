/** Real LiveServers on loopback for a test file: started on any port, closed after each test. */
import { afterEach } from 'vitest';
import { LiveFeed } from '../../runner/live/feed.js';
import { LiveServer, type LiveServerOptions } from '../../runner/live/server.js';

export type StartServer = (opts?: Partial<LiveServerOptions>) => Promise<{ feed: LiveFeed; server: LiveServer }>;

/** Call at the top level of a test file; returns `start`. */
export function useLiveServers(): StartServer {
  const servers: LiveServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  return async (opts = {}) => {
    const feed = opts.feed ?? new LiveFeed();
    const server = await LiveServer.start({ feed, port: 0, ...opts });
    servers.push(server);
    return { feed, server };
  };
}
