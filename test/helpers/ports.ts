/** Free loopback ports for tests that must name a port before starting (e.g. the trouble listeners' N..N+5). */
import net from 'node:net';

/** N free consecutive loopback ports. */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    const servers: net.Server[] = [];
    try {
      for (let offset = 0; offset < count; offset++) {
        const server = net.createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(base + offset, '127.0.0.1', resolve);
        });
        servers.push(server);
      }
      return base;
    } catch {
      // taken: try another block
    } finally {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** Whether nothing accepts connections on this loopback port (a stopped mock's ports must be). */
export const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket.destroy() && false));
    socket.once('error', () => resolve(true));
  });
