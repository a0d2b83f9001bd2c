/**
 * How recorded answers become scenario rules, without sockets: echo detection, omitted
 * and extra fields, values that would read as templates, token templates, sequences
 * without trailing repeats, exact matches that never overlap.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordedResponse, tokenTemplate } from '../src/record/recorded-response.js';
import { MAX_STEPS_PER_RULE, Recorder } from '../src/record/recorder.js';
import type { EntitlementRequest } from '../src/protocol/types.js';

const request = (fields: Partial<EntitlementRequest> = {}): EntitlementRequest => ({ messageID: 'm-1', version: 1, contentID: 'c-1', requestType: 1, ...fields });
const json = (body: Record<string, unknown>, status = 200, contentType: string | null = 'application/json') => ({ status, contentType, body });
const plain = { templateTokens: false };

test('echoed messageID and version are left to echo; other values are written; missing ones omitted', () => {
  assert.equal(recordedResponse(request(), json({ messageID: 'm-1', version: 1, isAllowed: true, epTokenURL: 'https://t/' }), plain), {
    isAllowed: true,
    epTokenURL: 'https://t/',
  });
  assert.equal(recordedResponse(request(), json({ messageID: 'other', version: '1', isAllowed: 'yes' }), plain), {
    messageID: 'other',
    version: '1',
    isAllowed: 'yes',
    omit: ['epTokenURL'],
  });
  assert.equal(recordedResponse(request(), json({}), plain), { omit: ['messageID', 'version', 'isAllowed', 'epTokenURL'] });
});

test('values the scenario language would misread go to extra; unknown fields too; status and Content-Type kept', () => {
  const response = recordedResponse(
    request(),
    json({ messageID: 'mismatch', version: 1, isAllowed: false, epTokenURL: null, error: -1, errorText: 'see {{docs}}', region: 'eu' }, 403, 'application/json; charset=utf-8'),
    plain,
  );
  assert.equal(response, {
    isAllowed: false,
    error: -1,
    extra: { messageID: 'mismatch', epTokenURL: null, errorText: 'see {{docs}}', region: 'eu' },
    status: 403,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
  });
});

test('token templates replace token query values only', () => {
  assert.is(
    tokenTemplate('https://fp.service.expressplay.com:80/hms/fp/rights/?ExpressPlayToken=AbC-_1&x=2'),
    'https://fp.service.expressplay.com:80/hms/fp/rights/?ExpressPlayToken={{token}}&x=2',
  );
  assert.is(tokenTemplate('https://h/p?a=1&token=zz#f'), 'https://h/p?a=1&token={{token}}#f');
  assert.is(tokenTemplate('https://h/token/p?a=1'), 'https://h/token/p?a=1');
  assert.equal(recordedResponse(request(), json({ messageID: 'm-1', version: 1, isAllowed: true, epTokenURL: 'https://h/?token=1' }), { templateTokens: true }), {
    isAllowed: true,
    epTokenURL: 'https://h/?token={{token}}',
  });
});

test('the recorder: one exact rule per key, respond for repeats, sequences without trailing repeats', () => {
  const recorder = new Recorder({ templateTokens: false, matchCookie: false });
  const allow = json({ messageID: 'm-1', version: 1, isAllowed: true, epTokenURL: 'u' });
  const deny = json({ messageID: 'm-1', version: 1, isAllowed: false, epTokenURL: '' });
  recorder.add(request(), allow);
  recorder.add(request({ messageID: 'm-2' }), { ...allow, body: { ...allow.body, messageID: 'm-2' } });
  for (const answer of [deny, allow, deny, deny, deny]) recorder.add(request({ contentID: 'glob*?' }), answer);
  recorder.add(request({ requestType: undefined, customerCookie: 'ignored' }), deny);
  const scenario = recorder.scenario('d');
  assert.equal(scenario.rules, [
    { name: 'c-1 type 1', match: { contentID: 'c-1', requestType: 1 }, respond: { isAllowed: true, epTokenURL: 'u' } },
    {
      name: 'glob*? type 1',
      match: { contentID: { equals: 'glob*?' }, requestType: 1 },
      sequence: [
        { isAllowed: false, epTokenURL: '' },
        { isAllowed: true, epTokenURL: 'u' },
        { isAllowed: false, epTokenURL: '' },
      ],
    },
    { name: 'c-1 no requestType', match: { contentID: 'c-1', requestType: { exists: false } }, respond: { isAllowed: false, epTokenURL: '' } },
  ]);
  assert.equal(recorder.counts(), { recorded: 8, rules: 3, dropped: 0 });
});

test('the recorder with matchCookie, and its cap on steps per rule', () => {
  const recorder = new Recorder({ templateTokens: false, matchCookie: true });
  for (let step = 0; step <= MAX_STEPS_PER_RULE; step++)
    recorder.add(request({ customerCookie: 'k' }), json({ messageID: 'm-1', version: 1, isAllowed: true, epTokenURL: `u${step}` }));
  recorder.add(request(), json({ messageID: 'm-1', version: 1, isAllowed: true, epTokenURL: 'none' }));
  const [withCookie, withoutCookie] = recorder.scenario('d').rules!;
  assert.equal(withCookie!.match, { contentID: 'c-1', requestType: 1, customerCookie: 'k' });
  assert.is(withCookie!.sequence!.length, MAX_STEPS_PER_RULE);
  assert.equal(withoutCookie!.match, { contentID: 'c-1', requestType: 1, customerCookie: { exists: false } });
  assert.equal(recorder.counts(), { recorded: MAX_STEPS_PER_RULE + 1, rules: 2, dropped: 1 });
});

test.run();
