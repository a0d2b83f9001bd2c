/** A complete journal entry for unit tests (journal, logger, metrics), with whatever fields a test cares about overridden. */
import type { JournalEntry } from '../../src/journal/entry.js';

export function journalEntry(overrides: Partial<JournalEntry> & { contentID?: string; messageID?: string } = {}): JournalEntry {
  const { contentID = 'c', messageID = 'm-1', ...rest } = overrides;
  return {
    id: 1,
    time: new Date().toISOString(),
    remote: '127.0.0.1:5000',
    listener: 'main',
    clientCN: 'license-server',
    clientFingerprint: null,
    clientAuthorized: true,
    tls: null,
    method: 'POST',
    path: '/entitlement',
    headers: {},
    request: { messageID, contentID },
    rawBody: JSON.stringify({ messageID, contentID }),
    valid: true,
    problems: [],
    warnings: [],
    session: null,
    scenario: 'default',
    rule: 'allow',
    step: null,
    state: null,
    response: { status: 200, body: {}, fault: null, delayMs: 0 },
    durationMs: 1,
    ...rest,
  };
}
