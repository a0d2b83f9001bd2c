/**
 * The record behind GET /admin/tls-failures of connections refused before any
 * request reached the mock: failed or refused TLS handshakes, connections over
 * --max-connections, and requests Node's HTTP parser refused (malformed, headers
 * too large or too slow). Bounded, with counts that survive until reset.
 *
 * It lives beside the journal (the listeners in server/ write it; the journal sources of
 * federation/ and the admin API read it), so that those layers need nothing of server/.
 */
import { Type, type Static } from '@sinclair/typebox';
import { BoundedRing } from './ring.js';
import { ListenerName } from './entry.js';

/** One refused connection: a TypeBox definition, so the admin API, the client and the dashboard share it. */
export const TlsFailure = Type.Object(
  {
    time: Type.String({ description: 'ISO 8601 time of the refusal' }),
    remote: Type.String(),
    listener: ListenerName,
    reason: Type.String({
      description: 'In words: `no certificate`, `unknown CA`, `expired certificate`, `not TLS (plain HTTP)`, `connection limit reached`, `HTTP request malformed`, …',
    }),
    code: Type.Union([Type.String(), Type.Null()], { description: 'OpenSSL or Node error code when there is one' }),
  },
  { $id: 'TlsFailure', additionalProperties: false, description: 'A connection refused before any request reached the mock' },
);
export type TlsFailure = Static<typeof TlsFailure>;

/** What the log holds (GET /admin/tls-failures). */
export const TlsFailureListing = Type.Object(
  {
    total: Type.Integer({ minimum: 0, description: 'Refusals since the last reset, kept or dropped' }),
    dropped: Type.Integer({ minimum: 0 }),
    counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'Refusals by reason since the last reset' }),
    failures: Type.Array(TlsFailure, { description: 'The newest refusals, oldest first' }),
    missing: Type.Optional(
      Type.Array(Type.String(), { description: 'Journal sources (workers, peers) left out because they did not answer; only with partial=true' }),
    ),
  },
  { $id: 'TlsFailureListing', additionalProperties: false, description: 'The refused connections kept, and counts by reason' },
);
export type TlsFailureListing = Static<typeof TlsFailureListing>;

/** Reasons that say the client gave up on the handshake itself (an alert, or a reset): on a trouble listener, the right thing to do. */
const CLIENT_REFUSED = /^(client refused the server certificate|connection reset during handshake)/;

export class TlsFailureLog {
  private readonly ring: BoundedRing<TlsFailure>;
  private readonly byReason = new Map<string, number>();
  /** Of those, the trouble listeners' certificates the client refused, by reason. */
  private readonly refusedTrouble = new Map<string, number>();

  constructor(capacity: number) {
    this.ring = new BoundedRing(capacity);
  }

  record(failure: TlsFailure): void {
    this.ring.push(failure);
    this.byReason.set(failure.reason, (this.byReason.get(failure.reason) ?? 0) + 1);
    if (failure.listener !== 'main' && CLIENT_REFUSED.test(failure.reason))
      this.refusedTrouble.set(failure.reason, (this.refusedTrouble.get(failure.reason) ?? 0) + 1);
  }

  clear(): void {
    this.ring.clear();
    this.byReason.clear();
    this.refusedTrouble.clear();
  }

  /** How many trouble listeners' certificates the clients refused (the right thing to do). */
  get troubleCertificatesRefused(): number {
    let count = 0;
    for (const times of this.refusedTrouble.values()) count += times;
    return count;
  }

  /** Counts by reason less the trouble listeners' certificates the client was right to refuse (what the report card judges). */
  countsOfWrongRefusals(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [reason, count] of this.byReason) {
      const wrong = count - (this.refusedTrouble.get(reason) ?? 0);
      if (wrong > 0) counts[reason] = wrong;
    }
    return counts;
  }

  /** Refused connections since the last clear, by reason (the ring may have dropped some of them; these counts did not). */
  countsByReason(): Record<string, number> {
    return Object.fromEntries(this.byReason);
  }

  toJSON(): TlsFailureListing {
    return {
      total: this.ring.total,
      dropped: this.ring.dropped,
      counts: this.countsByReason(),
      failures: [...this.ring.values()],
    };
  }
}
