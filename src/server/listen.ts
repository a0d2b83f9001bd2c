/** Opening a listener: one way for the entitlement, trouble, CRL and admin listeners. */
import type { Server } from 'node:net';

/** Starts `server` listening; resolves to the port it got (0 picks a free one), rejects on a listen error (port in use, …). */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
