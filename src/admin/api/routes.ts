/**
 * Every admin route's definition, by operationId. The OpenAPI document lists
 * them in this order; the admin app registers a handler for each (a test checks).
 */
import * as system from './system.js';
import * as scenarios from './scenarios.js';
import * as journal from './journal.js';
import * as report from './report.js';
import * as state from './state.js';
import * as sessions from './sessions.js';
import * as recording from './recording.js';
import * as conformance from './conformance.js';
import type { RouteDefinition } from './define.js';

export const adminRoutes = {
  health: system.health,
  reset: system.reset,
  listScenarios: scenarios.listScenarios,
  activateScenario: scenarios.activateScenario,
  uploadScenario: scenarios.uploadScenario,
  deleteScenario: scenarios.deleteScenario,
  listRequests: journal.listRequests,
  countRequests: journal.countRequests,
  clearRequests: journal.clearRequests,
  getState: state.getState,
  clearState: state.clearState,
  createSession: sessions.createSession,
  listSessions: sessions.listSessions,
  getSession: sessions.getSession,
  deleteSession: sessions.deleteSession,
  getRecording: recording.getRecording,
  getRecordingScenario: recording.getRecordingScenario,
  snapshotRecording: recording.snapshotRecording,
  clearRecording: recording.clearRecording,
  startConformanceRun: conformance.startConformanceRun,
  listConformanceRuns: conformance.listConformanceRuns,
  getConformanceRun: conformance.getConformanceRun,
  getConformanceRunJunit: conformance.getConformanceRunJunit,
  postConformanceOutcome: conformance.postConformanceOutcome,
  deleteConformanceRun: conformance.deleteConformanceRun,
  tlsFailures: system.tlsFailures,
  report: report.report,
  metrics: system.metrics,
  openapi: system.openapi,
} satisfies Record<string, RouteDefinition>;

export type AdminRoutes = typeof adminRoutes;
