/** The report card on the license server under test (GET /admin/report, `entitlement-mock report`). */

export type Severity = 'error' | 'warn';

/** Something the license server did wrong, with the evidence. */
export interface Finding {
  /** Stable identifier, e.g. `trouble-listener:expired`, `duplicate-message-id`. */
  id: string;
  severity: Severity;
  /** What happened, in one line. */
  title: string;
  /** How many requests (or refused handshakes) show it. */
  count: number;
  /** Journal entry ids of some of those requests (at most EXAMPLE_LIMIT), oldest first; empty for refused handshakes. */
  examples: number[];
  /** What a correct license server does instead, in one sentence. */
  advice: string;
}

/** How the license server reacted to one kind of failure the mock gave it. */
export interface FaultReaction {
  /** `reset`, `close`, `hang`, `partial`, `slow` or `5xx`. */
  failure: string;
  /** Requests that got this failure. */
  count: number;
  /** Of those, how many were followed by the same request (same contentID and customerCookie) within the retry window. */
  retried: number;
  /** Retries after these failures, in all (a request retried twice counts 2). */
  retries: number;
  /** The longest run of retries in a row (without a success between) that began with this failure. */
  maxRetries: number;
  /** For held answers (`hang`): how long the license server waited before it gave up, in ms (its timeout, as measured). */
  gaveUpAfterMs?: { min: number; median: number; max: number };
  /** Held answers it had not given up on when the report was made. */
  stillWaiting?: number;
}

/** Facts about the license server's traffic, neither right nor wrong in themselves. */
export interface TrafficProfile {
  requests: number;
  /** Connections that carried at least one journaled request. */
  connections: number;
  /** Connections by negotiated TLS version. */
  tlsVersions: Record<string, number>;
  /** Connections whose TLS session was resumed. */
  resumedConnections: number;
  /** The most requests in progress at once (from each request's arrival and duration). */
  peakConcurrency: number;
  faultReactions: FaultReaction[];
}

export interface Report {
  /** When the report was made (RFC 3339). */
  generatedAt: string;
  /** Requests the journal holds (the report covers these: everything since the last reset unless `dropped` > 0). */
  requests: number;
  /** Requests the journal had to drop (not covered). */
  dropped: number;
  /** Refused handshakes counted since the last reset. */
  refusedHandshakes: number;
  /** Most severe first, then by count. Empty for a license server that did nothing wrong. */
  findings: Finding[];
  profile: TrafficProfile;
  /** The window within which the same request again counts as a retry, in ms. */
  retryWindowMs: number;
}
