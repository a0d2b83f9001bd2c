/**
 * The rules of an Entitlement Response (HTTP 200): what a correct license server requires before
 * it grants, and what it passes on when the service refuses. Each planted bug bends one rule.
 */
import type { BugFlag } from './bugs.js';

export type Judgement =
  | { kind: 'granted'; epTokenURL: string }
  | { kind: 'denied'; code?: number; text?: string }
  | { kind: 'violation'; rule: string };

/** The version the license server sends, and the highest it accepts back. */
export const PROTOCOL_VERSION = 1;

export function judgeAnswer(bodyText: string, sentMessageID: string, bugs: ReadonlySet<BugFlag>): Judgement {
  let answer: unknown;
  try {
    answer = JSON.parse(bodyText);
  } catch {
    return violation(bodyText === '' ? 'the body is empty, not a JSON object' : 'the body is not JSON');
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return violation(`the body is ${describe(answer)}, not a JSON object`);
  const fields = answer as Record<string, unknown>;

  const { messageID } = fields;
  if (typeof messageID !== 'string') return violation(`messageID is ${describe(messageID)}, not the request's string`);
  if (messageID !== sentMessageID && !bugs.has('grant-on-mismatched-message-id'))
    return violation(`messageID ${JSON.stringify(messageID)} is not the request's ${JSON.stringify(sentMessageID)}`);

  if (!bugs.has('ignore-version')) {
    const { version } = fields;
    if (typeof version !== 'number' || !Number.isInteger(version)) return violation(`version is ${describe(version)}, not an integer`);
    if (version > PROTOCOL_VERSION) return violation(`version ${version} is above the request's ${PROTOCOL_VERSION}`);
  }

  const { isAllowed } = fields;
  let allowed: boolean;
  if (bugs.has('truthy-is-allowed')) allowed = Boolean(isAllowed);
  else if (typeof isAllowed === 'boolean') allowed = isAllowed;
  else return violation(`isAllowed is ${describe(isAllowed)}, not a boolean`);

  if (allowed) {
    const { epTokenURL } = fields;
    if (bugs.has('no-token-url-check')) return { kind: 'granted', epTokenURL: typeof epTokenURL === 'string' ? epTokenURL : '' };
    if (typeof epTokenURL !== 'string' || epTokenURL === '') return violation(`isAllowed is true but epTokenURL is ${describe(epTokenURL)}, not a token URL`);
    return { kind: 'granted', epTokenURL };
  }

  if (bugs.has('drop-error-text')) return { kind: 'denied' };
  const { error, errorText } = fields;
  return {
    kind: 'denied',
    ...(typeof error === 'number' && Number.isInteger(error) ? { code: error } : {}),
    ...(typeof errorText === 'string' ? { text: errorText } : {}),
  };
}

function violation(rule: string): Judgement {
  return { kind: 'violation', rule };
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === '') return 'an empty string';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
