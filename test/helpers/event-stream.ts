/** Read GET /admin/events the way the dashboard does (fetch streaming, headers allowed), collecting the events. */
export interface ServerSentEvent {
  id: string | null;
  event: string;
  data: any;
}

export interface OpenEventStream {
  status: number;
  headers: Headers;
  events: ServerSentEvent[];
  /** Comment lines (heartbeats) seen. */
  comments: string[];
  /** Resolves with the first event (from the start of the stream) that satisfies `accept`. */
  next(accept: (event: ServerSentEvent) => boolean, timeoutMs?: number): Promise<ServerSentEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<OpenEventStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const events: ServerSentEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  let ended!: () => void;
  const endedPromise = new Promise<void>((resolve) => (ended = resolve));

  void (async () => {
    let buffer = '';
    let current: { id: string | null; event: string; data: string[] } = { id: null, event: 'message', data: [] };
    try {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (current.data.length > 0) {
              const text = current.data.join('\n');
              events.push({ id: current.id, event: current.event, data: text.startsWith('{') ? JSON.parse(text) : text });
              for (const wake of waiters) wake();
            }
            current = { id: null, event: 'message', data: [] };
          } else if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else {
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') current.id = value;
            else if (field === 'event') current.event = value;
            else if (field === 'data') current.data.push(value);
          }
        }
      }
    } catch {
      // aborted by close()
    }
    ended();
    for (const wake of waiters) wake();
  })();

  const next: OpenEventStream['next'] = (accept, timeoutMs = 3000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = events.find(accept);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching event within ${timeoutMs} ms; got ${events.map((e) => e.event).join(', ')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return { status: response.status, headers: response.headers, events, comments, next, ended: endedPromise, close: () => abort.abort() };
}
