/**
 * What GET /admin/recording and POST /admin/recording/snapshot answer: TypeBox
 * definitions, so the admin API, its OpenAPI document and the typed client share them.
 */
import { Type, type Static } from '@sinclair/typebox';

export const RecordingStatus = Type.Object(
  {
    upstream: Type.String({ description: 'The real service being recorded (--upstream)' }),
    out: Type.String({ description: 'Where the scenario is written (--out)' }),
    startedAt: Type.String({ description: 'ISO 8601 time the recording started' }),
    forwarded: Type.Integer({ minimum: 0, description: 'Requests forwarded upstream' }),
    failed: Type.Integer({ minimum: 0, description: 'Of those, how many got no usable answer (answered 502)' }),
    recorded: Type.Integer({ minimum: 0, description: 'Answers recorded into rules' }),
    rules: Type.Integer({ minimum: 0, description: 'Rules the scenario has: one per contentID + requestType (+ customerCookie)' }),
    dropped: Type.Integer({ minimum: 0, description: 'Answers not recorded because their rule already had 1000 steps' }),
    writtenAt: Type.Union([Type.String(), Type.Null()], { description: 'When the file was last written, null before the first write' }),
    writeError: Type.Union([Type.String(), Type.Null()], { description: 'Why the last write failed, null when it did not' }),
    recordFailures: Type.Boolean(),
    matchCookie: Type.Boolean(),
    templateTokens: Type.Boolean(),
  },
  { $id: 'RecordingStatus', additionalProperties: false, description: 'Record mode: what was forwarded and recorded so far' },
);
export type RecordingStatus = Static<typeof RecordingStatus>;

export const SnapshotResult = Type.Object(
  {
    file: Type.String({ description: 'The file written (--out)' }),
    rules: Type.Integer({ minimum: 0 }),
    recorded: Type.Integer({ minimum: 0, description: 'Answers recorded into those rules' }),
    writtenAt: Type.String({ description: 'ISO 8601 time of the write' }),
  },
  { additionalProperties: false },
);
export type SnapshotResult = Static<typeof SnapshotResult>;
