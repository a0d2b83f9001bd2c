/** The report card as text for a terminal or a CI log (`entitlement-mock report`). */
import type { Report, Severity } from './types.js';

const MARKS: Record<Severity, string> = { error: '✗ error', warn: '! warn ' };
const ACCEPTED = '✓ accepted';

export function reportAsText(report: Report): string {
  const lines: string[] = [];
  const covered = report.dropped > 0 ? ` (the journal dropped ${report.dropped} older ones: not covered)` : '';
  const { session, since } = report.scope;
  const scope = [session === null ? '' : ` of session ${session}`, since === null ? '' : ` since ${since}`].join('');
  const handshakes = session === null && since === null ? `, ${report.refusedHandshakes} refused handshakes` : '';
  lines.push(`Report on the license server: ${report.requests} requests${scope}${covered}${handshakes}`);
  if (report.findings.length === 0) lines.push('No findings: nothing wrong was seen.');
  for (const finding of report.findings) {
    lines.push('');
    lines.push(`${finding.accepted ? ACCEPTED : MARKS[finding.severity]}  ${finding.title}  [${finding.id}${finding.accepted ? `, ${finding.severity}` : ''}]`);
    if (finding.examples.length > 0) lines.push(`         e.g. journal entries ${finding.examples.map((id) => `#${id}`).join(', ')}`);
    lines.push(`         → ${finding.advice}`);
  }
  const { profile } = report;
  const versions = Object.entries(profile.tlsVersions).map(([version, count]) => `${version} ×${count}`).join(', ') || 'none';
  lines.push('');
  lines.push(`Traffic: ${profile.connections} connections (${versions}), ${profile.resumedConnections} resumed, peak concurrency ${profile.peakConcurrency}`);
  for (const reaction of profile.faultReactions) {
    const retried = `retried ${reaction.retried} of ${reaction.count}${reaction.maxRetries > 1 ? ` (up to ${reaction.maxRetries} in a row)` : ''}`;
    const waited = reaction.gaveUpAfterMs ? `, gave up after ${reaction.gaveUpAfterMs.median} ms (median; ${reaction.gaveUpAfterMs.min}-${reaction.gaveUpAfterMs.max})` : '';
    const still = reaction.stillWaiting ? `, ${reaction.stillWaiting} still waiting` : '';
    lines.push(`After ${reaction.failure}: ${retried}${waited}${still}`);
  }
  return `${lines.join('\n')}\n`;
}

/** True when a finding the team has not accepted is at least as severe as the threshold. */
export function failsAt(report: Report, threshold: Severity): boolean {
  return report.findings.some((finding) => !finding.accepted && (threshold === 'warn' || finding.severity === 'error'));
}
