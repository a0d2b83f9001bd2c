/** The scenarios bundled in scenarios/, by name (sorted): the tests that cover each of them check this list is complete. */
export const BUNDLED_SCENARIOS = [
  'default',
  'device-binding',
  'device-binding-expiring',
  'flaky-backend',
  'protocol-violations',
  'showcase',
  'token-formats',
] as const;
