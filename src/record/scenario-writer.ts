/**
 * Writes a recorded scenario as a YAML file: a header comment saying where, when and
 * by which version it was recorded and how to replay it, then the scenario. Written to
 * a temporary file and renamed, so a reader (or a watching mock) never sees half a file.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Document, isMap, isSeq } from 'yaml';
import type { Scenario } from '../scenario/format/format.js';
import { defaultNameOf } from '../scenario/registry/load.js';
import type { RecordingCounts } from './recorder.js';

export interface RecordingHeader {
  upstream: string;
  startedAt: Date;
  writtenAt: Date;
  version: string;
  counts: RecordingCounts;
  /** Upstream failures recorded as rules (--record-failures) or left out. */
  recordFailures: boolean;
  matchCookie: boolean;
  templateTokens: boolean;
}

export function recordingText(file: string, scenario: Scenario, header: RecordingHeader): string {
  const { counts } = header;
  const lines = [
    `Recorded by entitlement-mock ${header.version} (entitlement-mock record)`,
    `from ${header.upstream}`,
    `between ${header.startedAt.toISOString()} and ${header.writtenAt.toISOString()}:`,
    `${counts.recorded} answer${counts.recorded === 1 ? '' : 's'} in ${counts.rules} rule${counts.rules === 1 ? '' : 's'}` +
      (counts.dropped > 0 ? `; ${counts.dropped} later answers not recorded (a rule keeps at most its first steps)` : ''),
    '',
    `Replay offline: entitlement-mock serve --scenarios ${file} --scenario ${defaultNameOf(file)}`,
    '',
    `One rule per contentID + requestType${header.matchCookie ? ' + customerCookie' : ''}, matched exactly; a`,
    'request no rule matches gets the built-in 404 (no rule catches everything).',
    'Different answers for the same key are a sequence, in the order they came.',
    'messageID and version are echoed where the service echoed them.',
    header.templateTokens
      ? 'Token query values in epTokenURL are {{token}}: a fresh random token per answer.'
      : 'epTokenURL values are as recorded (--template-tokens makes their tokens fresh).',
    header.recordFailures
      ? 'Upstream failures are recorded as the 502 answer the client got (--record-failures).'
      : 'Upstream failures (502 answers) are not recorded.',
  ];
  const comment = lines.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n');
  const document = new Document(scenario, { aliasDuplicateObjects: false });
  // Match blocks on one line each: `match: { contentID: movie-1, requestType: 1 }`.
  const rules = document.get('rules');
  for (const rule of isSeq(rules) ? rules.items : []) {
    const match = isMap(rule) ? rule.get('match') : null;
    if (isMap(match)) match.flow = true;
  }
  return `${comment}\n${document.toString({ lineWidth: 0 })}`;
}

/** Write `text` to `file` through a temporary file in the same folder (created if missing). */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${dirname(file)}/.${basename(file)}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}
