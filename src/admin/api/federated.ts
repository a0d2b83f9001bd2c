/**
 * What every answer built over several journal sources shares (federation/): the `partial`
 * query parameter, the `missing` list, and the 503 when a source did not answer.
 */
import { Type } from '@sinclair/typebox';
import { errorAnswer } from './define.js';

export const partialQuery = {
  partial: Type.Optional(
    Type.Boolean({
      description: 'With workers or peers: answer from the journals that answer when some do not (`missing` names the others) instead of 503',
    }),
  ),
};

export const Missing = Type.Array(Type.String(), {
  description: 'Journal sources (workers, peers) left out of this answer because they did not answer; present only when some were (partial=true)',
});
export const missingField = { missing: Type.Optional(Missing) };

export const sourcesUnavailableAnswer = errorAnswer(
  'A journal source (a worker, a peer) did not answer: the message and `missing` name it; ask with partial=true for what the others hold',
);
