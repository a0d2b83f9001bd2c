/**
 * The planted bugs: each flag turns off (or bends) exactly one rule a correct license server
 * follows, so that a conformance run can show it catches that bug and only that one.
 */
export const BUG_FLAGS = {
  'grant-on-mismatched-message-id': 'takes any string messageID in the answer, not only the one it sent',
  'ignore-version': "does not look at the answer's version",
  'drop-error-text': "refuses without passing the service's error/errorText to its client as code/text",
  'fail-open-on-5xx': 'grants the license when the entitlement service answers 5xx (after its retries)',
  'retry-without-bound': 'retries 5xx, resets and closes ignoring maxRetries and its time budget (up to 20 attempts)',
  'reuse-message-id-on-retry': 'sends a retry with the messageID of the attempt before',
  'no-timeout': 'waits for the entitlement service as long as it takes',
  'trust-any-certificate': "accepts any server certificate (expired, another CA's, another host's)",
  'truthy-is-allowed': 'takes any truthy isAllowed ("true", 1) for true',
  'skip-host-check': "accepts a certificate from its CA issued for another host name",
  'no-token-url-check': 'grants on isAllowed true without an epTokenURL',
} as const satisfies Record<string, string>;

export type BugFlag = keyof typeof BUG_FLAGS;

export function isBugFlag(name: string): name is BugFlag {
  return Object.hasOwn(BUG_FLAGS, name);
}

/** `a,b` (the BUGS variable) as flags; an unknown name is an error naming the known ones. */
export function parseBugFlags(list: string): BugFlag[] {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !isBugFlag(name));
  if (unknown.length > 0) throw new Error(`unknown bug flag ${unknown.map((name) => `"${name}"`).join(', ')}; known: ${Object.keys(BUG_FLAGS).join(', ')}`);
  return names as BugFlag[];
}
