/**
 * A throwaway Redis for the --store tests: Debian's redis-server on a free loopback port, in a
 * temporary folder, no persistence. Ready when it says so on its standard output (no sleeps);
 * stop() ends it, start() again brings it back on the same port (a Redis outage and its return).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { freePortBlock } from './ports.js';
import { tempDir } from './temp.js';
import { slack } from './slack.js';

export const REDIS_SERVER = process.env.EM_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';

export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:PORT/0` */
  readonly url: string;
  /** Stop the server (its data goes with it). */
  stop(): Promise<void>;
  /** Start it again on the same port (after stop()). */
  start(): Promise<void>;
}

/** `started: false` reserves the port and returns without starting (a Redis that comes up after the mock). */
export async function startRedis({ started = true }: { started?: boolean } = {}): Promise<TestRedis> {
  const port = await freePortBlock(1);
  const dir = tempDir('redis');
  let child: ChildProcess | null = null;
  const start = async () => {
    const server = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = server;
    const lines = createInterface({ input: server.stdout! });
    const ready = new Promise<void>((resolve, reject) => {
      let output = '';
      lines.on('line', (line) => {
        output += `${line}\n`;
        if (line.includes('Ready to accept connections')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
      server.once('error', reject);
    });
    const timer = setTimeout(() => server.kill('SIGKILL'), slack(5000));
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
    server.stdout!.resume();
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  if (started) await start();
  return { port, url: `redis://127.0.0.1:${port}/0`, stop, start };
}
