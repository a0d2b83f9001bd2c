/**
 * What a journal entry records of the upstream exchange in record mode (the entry's
 * `upstream` field): a TypeBox definition, so the admin API's answers and the typed
 * client can share it.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { UpstreamOutcome } from './upstream-client.js';

export const JournaledUpstream = Type.Union(
  [
    Type.Object(
      {
        outcome: Type.Literal('answered'),
        url: Type.String({ description: 'The upstream entitlement URL' }),
        status: Type.Literal(200),
        ms: Type.Number({ description: 'From sending the request to the end of the answer' }),
        body: Type.Unknown({ description: "The service's answer (a JSON object), passed back to the client unchanged" }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        outcome: Type.Literal('failed'),
        url: Type.String(),
        reason: Type.String({ description: 'Why there was no usable answer; the client got it in a 502 errorText' }),
        status: Type.Union([Type.Integer(), Type.Null()], { description: 'The status the service answered, null when it answered nothing' }),
        ms: Type.Number(),
        body: Type.Unknown({ description: 'What the service answered: parsed JSON, else the text, else null' }),
      },
      { additionalProperties: false },
    ),
  ],
  { $id: 'JournaledUpstream', description: 'Record mode only: what the real entitlement service answered, or why it did not' },
);
export type JournaledUpstream = Static<typeof JournaledUpstream>;

export function journaledUpstream(url: string, outcome: UpstreamOutcome): JournaledUpstream {
  if (outcome.kind === 'answered') return { outcome: 'answered', url, status: 200, ms: outcome.ms, body: outcome.json };
  return { outcome: 'failed', url, reason: outcome.reason, status: outcome.status, ms: outcome.ms, body: parsedOrText(outcome.text) };
}

function parsedOrText(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
