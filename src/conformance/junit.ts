/**
 * A run report as JUnit XML, the format CI systems read: one testsuite, one testcase per case;
 * a failing case carries `failure` with its reason, an inconclusive one `error`, a not-run one
 * `skipped`. Written with xmlbuilder2 (escaping, and characters XML cannot hold replaced, are
 * its job, not ours).
 */
import { create } from 'xmlbuilder2';
import type { CaseReport, RunReport } from './types.js';

export function runReportAsJunit(report: RunReport): string {
  const { counts } = report;
  const suiteName = `entitlement-mock conformance: ${report.plan} (run ${report.id})`;
  const totals = { tests: counts.total, failures: counts.fail, errors: counts.inconclusive, skipped: counts.notRun };
  const root = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' }).ele('testsuites', { name: suiteName, ...asAttributes(totals) });
  const suite = root.ele('testsuite', { name: suiteName, timestamp: report.createdAt, ...asAttributes(totals) });
  suite.ele('properties').ele('property', { name: 'run', value: report.id }).up().ele('property', { name: 'timeoutMs', value: String(report.timeoutMs) });
  for (const testCase of report.cases) {
    const element = suite.ele('testcase', {
      name: `${testCase.id}: ${testCase.title}`,
      classname: `conformance.${report.plan}`,
      ...(testCase.outcome?.elapsedMs !== undefined ? { time: (testCase.outcome.elapsedMs / 1000).toFixed(3) } : {}),
    });
    const detail = details(testCase);
    if (testCase.verdict === 'fail') element.ele('failure', { message: testCase.reason, type: testCase.checks.basis }).txt(detail);
    else if (testCase.verdict === 'inconclusive') element.ele('error', { message: testCase.reason, type: 'inconclusive' }).txt(detail);
    else if (testCase.verdict === 'not-run') element.ele('skipped', { message: testCase.reason });
    else element.ele('system-out').txt(detail);
  }
  return root.end({ prettyPrint: true });
}

function asAttributes(values: Record<string, number>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)]));
}

/** What a CI page shows under the case: the rule, the expectation, the outcome and what the mock saw. */
function details(testCase: CaseReport): string {
  return [
    `checks (${testCase.checks.basis}): ${testCase.checks.rule}`,
    `expected: ${JSON.stringify(testCase.expect)}`,
    `client got: ${testCase.outcome === null ? 'nothing posted' : JSON.stringify(testCase.outcome)}`,
    `contentID: ${testCase.contentID}; requests seen: ${testCase.seen.requests} (journal ids ${testCase.seen.entries.join(', ') || 'none'})`,
    `verdict: ${testCase.verdict}: ${testCase.reason}`,
  ].join('\n');
}
