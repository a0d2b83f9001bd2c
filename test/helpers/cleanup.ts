/**
 * Close what a test opened whether it passed or failed, so that a failing test never leaves a
 * handle (server, socket, child process, browser, mock) that keeps the test process alive.
 *
 *   const own = closeAfter(test.after.each);   // what a test opens, closed after that test
 *   const ownForFile = closeAfter(test.after); // what the before hook opens, closed after the last test
 *   const relay = own(await cuttableRelay(port));
 *   own(() => clearInterval(timer));           // any other undo step
 *
 * Things are closed newest first; every closer runs even when one fails, and then the first
 * failure is thrown (uvu reports it). A closer that does not finish within slack(5000) ms fails too.
 */
import { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import http from 'node:http';
import { slack } from './slack.js';

/** Anything the tests open: closed by close(), stop(), destroy() or by calling it. */
export type Closable =
  | (() => unknown)
  | ChildProcess
  | net.Server
  | net.Socket
  | { close(): unknown }
  | { stop(): unknown }
  | { destroy(): unknown };

export type Own = <T extends Closable>(thing: T) => T;

/** Register `hook` (test.after.each or test.after) to close everything owned since it last ran. */
export function closeAfter(hook: (run: () => Promise<void>) => void): Own {
  const owned: Closable[] = [];
  hook(() => closeAll(owned.splice(0).reverse()));
  return (thing) => {
    owned.push(thing);
    return thing;
  };
}

/** Close each thing (all of them, even when one fails), then throw the first failure. */
async function closeAll(things: Closable[]): Promise<void> {
  const failures: unknown[] = [];
  for (const thing of things) {
    try {
      await bounded(closeOne(thing), describe(thing));
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length) throw failures[0];
}

async function closeOne(thing: Closable): Promise<unknown> {
  if (typeof thing === 'function') return thing();
  if (thing instanceof ChildProcess) {
    if (thing.exitCode !== null || thing.signalCode !== null) return;
    const exited = once(thing, 'exit');
    thing.kill('SIGKILL');
    return exited;
  }
  if (thing instanceof net.Server) {
    if (!thing.listening) return;
    const closed = new Promise((resolve) => thing.close(resolve));
    if (thing instanceof http.Server) thing.closeAllConnections();
    return closed;
  }
  if (thing instanceof net.Socket) return thing.destroy();
  if ('close' in thing) return thing.close();
  if ('stop' in thing) return thing.stop();
  return thing.destroy();
}

async function bounded(closing: Promise<unknown>, what: string): Promise<void> {
  const limit = slack(5000);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`closing ${what} took over ${limit} ms`)), limit);
  });
  try {
    await Promise.race([closing, late]);
  } finally {
    clearTimeout(timer);
  }
}

const describe = (thing: Closable): string =>
  typeof thing === 'function' ? `a cleanup step (${thing.name || 'anonymous'})` : (thing.constructor?.name ?? 'an object');
