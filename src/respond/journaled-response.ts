/**
 * What the responder says it sent for a plan (describePlan in deliver.ts; record mode builds the
 * same for forwarded answers): the journal entry's `response` field. A TypeBox definition, so the
 * admin API's answers, the typed client and the dashboard's types share it.
 */
import { Type, type Static } from '@sinclair/typebox';

export const JournaledResponse = Type.Object(
  {
    status: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status sent, or null when a fault sent no response' }),
    body: Type.Unknown({ description: 'The body as sent: the JSON object, the raw string, or null when nothing was sent' }),
    fault: Type.Union([Type.String(), Type.Null()]),
    delayMs: Type.Number(),
  },
  { additionalProperties: false },
);
export type JournaledResponse = Static<typeof JournaledResponse>;
