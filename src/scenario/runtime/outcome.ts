/**
 * What the scenario runtime reports about a request beside the answer: the rules that
 * almost matched (near misses) and the state the request saw and left. Defined here, in
 * the layer that produces them, as TypeBox definitions: the journal entry, the admin API,
 * the typed client and the OpenAPI document import these, and the TS types are Static<> of them.
 */
import { Type, type Static } from '@sinclair/typebox';

export const NearMiss = Type.Object(
  {
    rule: Type.String(),
    failed: Type.Array(Type.Object({ key: Type.String(), reason: Type.String() }, { additionalProperties: false }), {
      description: 'The keys that failed, e.g. `{key: "contentID", reason: "wanted glob \\"denied-*\\", got \\"abc\\""}`',
    }),
  },
  { $id: 'NearMiss', additionalProperties: false, description: 'A rule that almost matched, and which of its keys did not' },
);
export type NearMiss = Static<typeof NearMiss>;

export const StateTransition = Type.Object(
  { key: Type.String(), before: Type.Union([Type.String(), Type.Null()]), after: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false, description: "In a scenario that uses state: the request's state key and its state before and after" },
);
export type StateTransition = Static<typeof StateTransition>;
