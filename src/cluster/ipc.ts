/**
 * Questions and answers between the cluster primary and its workers over the IPC channel
 * cluster.fork() opens: each question carries an id and gets one answer (or the channel
 * closes and every open question rejects with SourceDidNotAnswer). Messages of ours carry
 * `em` so prom-client's or Node's own cluster messages pass by untouched.
 */
import { SourceDidNotAnswer } from '../federation/source.js';

export type Ask = { em: 'ask'; id: number; op: string; args: unknown[] };
export type Answer = { em: 'answer'; id: number; ok: true; value: unknown } | { em: 'answer'; id: number; ok: false; error: string };
/** Sent without expecting an answer: a worker's news (entries while subscribed, listening, its journal size). */
export type Tell = { em: 'tell'; kind: string; data: unknown };
export type Message = Ask | Answer | Tell;

export function isMessage(message: unknown): message is Message {
  return typeof message === 'object' && message !== null && 'em' in message;
}

/** What a channel end needs: Node's process (in a worker) or cluster Worker (in the primary). */
export interface Channel {
  send(message: Message): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** Asks questions over one channel and matches the answers. */
export class Asker {
  private nextId = 1;
  private readonly open = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private closedBecause: string | null = null;

  constructor(
    private readonly channel: Channel,
    /** Who answers, for messages: `worker 2`, `the cluster primary`. */
    private readonly who: string,
  ) {}

  /** Route an incoming message here; false when it is not an answer. */
  received(message: Message): boolean {
    if (message.em !== 'answer') return false;
    const pending = this.open.get(message.id);
    if (pending === undefined) return true;
    this.open.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(new Error(`${this.who}: ${message.error}`));
    return true;
  }

  ask<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.closedBecause !== null) return Promise.reject(new SourceDidNotAnswer(`${this.who} ${this.closedBecause}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.open.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        this.channel.send({ em: 'ask', id, op, args });
      } catch (error) {
        this.open.delete(id);
        reject(new SourceDidNotAnswer(`${this.who} cannot be asked: ${(error as Error).message}`));
      }
    });
  }

  /** The other end is gone: every open question fails, and later ones at once. */
  close(because: string): void {
    this.closedBecause = because;
    for (const pending of this.open.values()) pending.reject(new SourceDidNotAnswer(`${this.who} ${because}`));
    this.open.clear();
  }
}

/** Answers the questions arriving on a channel with the handlers given by op name. */
export function answerQuestions(channel: Channel, message: Ask, handlers: Record<string, (...args: never[]) => unknown>): void {
  const handler = handlers[message.op];
  const reply = (answer: Answer) => {
    try {
      channel.send(answer);
    } catch {
      // The asker is gone; nobody waits for this answer.
    }
  };
  if (handler === undefined) return reply({ em: 'answer', id: message.id, ok: false, error: `no operation ${message.op}` });
  Promise.resolve()
    .then(() => (handler as (...args: unknown[]) => unknown)(...message.args))
    .then(
      (value) => reply({ em: 'answer', id: message.id, ok: true, value: value === undefined ? null : value }),
      (error: unknown) => reply({ em: 'answer', id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
}
