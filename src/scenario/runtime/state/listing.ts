/** How a rule set's per-key states are listed (GET /admin/state): one definition for the type, the admin API and its OpenAPI document. */
import { Type, type Static } from '@sinclair/typebox';

export const StateListingEntry = Type.Object(
  {
    state: Type.String(),
    setAt: Type.String({ description: 'When the state was set (RFC 3339)' }),
    expiresAt: Type.Union([Type.String(), Type.Null()], { description: 'When it expires (RFC 3339), or null without stateTtl' }),
  },
  { $id: 'StateListingEntry', additionalProperties: false, description: "One key's state" },
);
export type StateListingEntry = Static<typeof StateListingEntry>;

export const StateListing = Type.Object(
  {
    stateKey: Type.Union([Type.String(), Type.Null()], { description: 'The key form (stateKey), or null when the rule set uses no state' }),
    stateTtlMs: Type.Union([Type.Number(), Type.Null()], { description: 'stateTtl in milliseconds, or null' }),
    capacity: Type.Integer({ minimum: 0, description: 'The most keys kept; past it the key set longest ago is forgotten' }),
    forgotten: Type.Integer({ minimum: 0, description: 'Keys forgotten at the capacity since the last reset' }),
    keys: Type.Record(Type.String(), StateListingEntry, { description: 'Key -> its state, the one set longest ago first; expired states are left out' }),
  },
  { $id: 'StateListing', additionalProperties: false, description: "A rule set's per-key states" },
);
export type StateListing = Static<typeof StateListing>;
