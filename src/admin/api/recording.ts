/** Definitions of record mode's routes: GET/DELETE /admin/recording, GET /admin/recording/scenario, POST /admin/recording/snapshot. */
import { RecordingStatus, SnapshotResult } from '../../record/recording-status.js';
import { defineRoute, errorAnswer, jsonAnswer, textAnswer } from './define.js';

const NOT_RECORDING = 'The mock is not in record mode (started with `serve`, not `record`)';

export const getRecording = defineRoute({
  method: 'GET',
  path: '/admin/recording',
  operationId: 'getRecording',
  summary: 'Record mode: the upstream, the output file, and what was forwarded and recorded so far',
  answers: { 200: jsonAnswer(RecordingStatus, 'The recording'), 404: errorAnswer(NOT_RECORDING) },
});

export const getRecordingScenario = defineRoute({
  method: 'GET',
  path: '/admin/recording/scenario',
  operationId: 'getRecordingScenario',
  summary: 'Record mode: the scenario file as it would be written now (YAML), without writing it',
  answers: { 200: textAnswer('application/yaml', 'The recorded scenario, with its header comment'), 404: errorAnswer(NOT_RECORDING) },
});

export const snapshotRecording = defineRoute({
  method: 'POST',
  path: '/admin/recording/snapshot',
  operationId: 'snapshotRecording',
  summary: 'Record mode: write everything recorded so far to the output file now (replacing the previous write)',
  answers: {
    200: jsonAnswer(SnapshotResult, 'Written'),
    404: errorAnswer(NOT_RECORDING),
    500: errorAnswer('The file could not be written (the message says why); the recording is kept'),
  },
});

export const clearRecording = defineRoute({
  method: 'DELETE',
  path: '/admin/recording',
  operationId: 'clearRecording',
  summary: 'Record mode: forget what was recorded so far (the file is left as it is until the next write)',
  answers: { 200: jsonAnswer(RecordingStatus, 'The recording, now empty'), 404: errorAnswer(NOT_RECORDING) },
});
