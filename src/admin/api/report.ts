/** Definition of GET /admin/report. */
import { Report } from '../../report/types.js';
import { defineRoute, jsonAnswer } from './define.js';

export const report = defineRoute({
  method: 'GET',
  path: '/admin/report',
  operationId: 'report',
  summary: 'The report card on the license server under test, from the journal since the last reset',
  answers: { 200: jsonAnswer(Report, 'The findings (most severe first) and the traffic profile') },
});
