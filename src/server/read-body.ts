/** Reads a request body as UTF-8 text, refusing more than `limit` bytes without buffering them. */
import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { kind: 'text'; text: string }
  | { kind: 'not-utf8'; text: string }
  | { kind: 'too-large'; declared: number | null }
  | { kind: 'aborted' };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
  if (declared !== null && declared > limit) return Promise.resolve({ kind: 'too-large', declared });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        req.pause();
        settle({ kind: 'too-large', declared });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
      try {
        settle({ kind: 'text', text: strictUtf8.decode(bytes) });
      } catch {
        settle({ kind: 'not-utf8', text: lenientUtf8.decode(bytes) });
      }
    };
    const onAbort = () => settle({ kind: 'aborted' });
    const onClose = () => {
      if (!req.complete) settle({ kind: 'aborted' });
    };
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onClose);
  });
}
