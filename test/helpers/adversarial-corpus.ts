/**
 * Generated malformed Entitlement Requests, each with the answer docs/limits.md
 * promises for it. Deterministic: the same seed gives the same corpus.
 */
import { httpPost } from './raw-tls.js';

export interface AdversarialCase {
  kind: string;
  /** The bytes written to the TLS connection (one HTTP request, maybe a malformed one). */
  bytes: Buffer;
  /** The HTTP status expected back (null: no answer, the connection just closes). */
  status: number;
  /** The answer must say Connection: close and the server must close the connection. */
  closes: boolean;
  /** The request reaches the app and is journaled (else Node's parser refuses it, recorded as a connection failure). */
  journaled: boolean;
  /** The failure-log reason recorded for it, when it is refused before the app. */
  refusal?: string;
  /** For a body sent in part and then never finished: only the timeout ends it. */
  stalls?: boolean;
}

/** A small seeded PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATH = '/entitlement';
const GUID = '2f0f2a0c-1b7e-4c55-9a39-5b7c1d2e3f40';
const CONTENT = '6a1e5a7b-0c3d-4e2f-8a9b-1c2d3e4f5a6b';

/** A JSON text of a request whose fields are given as raw JSON texts (so duplicate keys, 1e400 and -0 survive). */
function rawRequest(fields: [string, string][]): string {
  return `{${fields.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

const baseFields = (): [string, string][] => [
  ['messageID', JSON.stringify(GUID)],
  ['version', '1'],
  ['contentID', JSON.stringify(CONTENT)],
];

function withField(key: string, value: string): string {
  const fields = baseFields().filter(([name]) => name !== key);
  return rawRequest([...fields, [key, value]]);
}

const post = (body: string | Buffer, headers: Record<string, string | number> = {}) => httpPost(PATH, body, headers);
const answered = (kind: string, bytes: Buffer, status: number): AdversarialCase => ({ kind, bytes, status, closes: false, journaled: true });

export function adversarialCorpus(seed: number, scale = 1): AdversarialCase[] {
  const random = seededRandom(seed);
  const int = (max: number) => Math.floor(random() * max);
  const randomBytes = (length: number) => Buffer.from(Array.from({ length }, () => int(256)));
  const cases: AdversarialCase[] = [];
  const times = (n: number, make: (i: number) => AdversarialCase) => {
    for (let i = 0; i < Math.round(n * scale); i++) cases.push(make(i));
  };

  // Random bytes and random printable junk as the body: not JSON (or not UTF-8).
  times(700, () => answered('random bytes', post(randomBytes(int(4096))), 400));
  times(300, () => {
    const text = Array.from({ length: 1 + int(600) }, () => String.fromCharCode(32 + int(95))).join('');
    return answered('printable junk', post(text), 400);
  });

  // A valid request cut anywhere before its end.
  times(500, () => {
    const whole = rawRequest([...baseFields(), ['requestType', String(1 + int(3))], ['customerCookie', JSON.stringify(`c${int(1000)}`)]]);
    return answered('truncated JSON', post(whole.slice(0, int(whole.length))), 400);
  });

  // Deep nesting: 10,000 levels (the JSON parser copes, the journal and logs must too).
  const deepArray = '['.repeat(10_000) + ']'.repeat(10_000);
  const deepObject = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
  times(10, () => answered('10,000 nested arrays', post(deepArray), 400));
  times(10, () => answered('10,000 nested objects', post(deepObject), 400));
  times(10, () => answered('nested arrays in a field', post(withField('contentID', deepArray)), 400));
  times(10, () => answered('nested objects as an unknown field', post(withField('extra', deepObject)), 400));
  times(10, () => answered('10,000 unclosed arrays', post('['.repeat(10_000)), 400));

  // 60 KiB strings in every field (and as a key).
  const long = JSON.stringify('x'.repeat(60 * 1024));
  const longDigits = JSON.stringify('1'.repeat(60 * 1024));
  for (let round = 0; round < Math.max(1, Math.round(3 * scale)); round++) {
    cases.push(answered('60 KiB messageID', post(withField('messageID', long)), 200));
    cases.push(answered('60 KiB contentID', post(withField('contentID', long)), 200));
    cases.push(answered('60 KiB customerCookie', post(withField('customerCookie', long)), 400));
    cases.push(answered('60 KiB version', post(withField('version', long)), 400));
    cases.push(answered('60 KiB numeric-string version', post(withField('version', longDigits)), 400));
    cases.push(answered('60 KiB requestType', post(withField('requestType', long)), 400));
    cases.push(answered('60 KiB unknown field', post(withField('note', long)), 200));
    cases.push(answered('60 KiB key', post(withField(`k${'y'.repeat(60 * 1024)}`, '1')), 200));
    // Thousands of values: parsed, they would take many times their text's memory in the journal.
    const manyFields = rawRequest([...baseFields(), ...Array.from({ length: 5000 }, (_, i): [string, string] => [`f${i}`, '0'])]);
    cases.push(answered('5,000 unknown fields', post(manyFields), 400));
    cases.push(answered('16,000 tiny arrays', post(withField('extra', `[${Array(16_000).fill('[0]').join(',')}]`)), 400));
    cases.push(answered('500 unknown fields', post(rawRequest([...baseFields(), ...Array.from({ length: 500 }, (_, i): [string, string] => [`f${i}`, '0'])])), 200));
  }

  // Invalid UTF-8 inside otherwise valid JSON.
  const badSequences = [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]];
  times(120, (i) => {
    const bad = Buffer.from(badSequences[i % badSequences.length] as number[]);
    const body = Buffer.concat([Buffer.from(`{"messageID":"${GUID}","version":1,"contentID":"ab`), bad, Buffer.from('cd"}')]);
    return answered('invalid UTF-8', post(body), 400);
  });

  // Numbers out of range, and the ones that are fine after all.
  const numberCases: [string, string, number][] = [
    ['version', '1e400', 400],
    ['version', '-1e400', 400],
    ['version', '-0', 400],
    ['version', '9007199254740993', 400],
    ['version', '0', 400],
    ['version', '-1', 400],
    ['version', '1.5', 400],
    ['version', '1e-400', 400],
    ['version', '1E2', 200],
    ['version', '1.0', 200],
    ['requestType', '1e400', 400],
    ['requestType', '-0', 400],
    ['requestType', '9007199254740993', 400],
    ['requestType', '2.0', 200],
    ['requestType', '4', 400],
    ['contentID', '1e400', 400],
    ['customerCookie', '-0', 400],
  ];
  times(10, () => {
    for (const [field, literal, status] of numberCases) cases.push(answered(`${field}: ${literal}`, post(withField(field, literal)), status));
    return answered('version: 2**53+1 as a string', post(withField('version', '"9007199254740993"')), 400);
  });

  // Prototype keys: journaled as unknown fields, never merged into anything.
  const protoCases: [string, string, number][] = [
    ['__proto__ key', withField('__proto__', '{"isAllowed":false,"polluted":true}'), 200],
    ['constructor.prototype key', withField('constructor', '{"prototype":{"polluted":true}}'), 200],
    ['prototype key', withField('prototype', '{"polluted":true}'), 200],
    ['toString/valueOf/hasOwnProperty keys', rawRequest([...baseFields(), ['toString', '1'], ['valueOf', '"x"'], ['hasOwnProperty', 'null']]), 200],
    ['__proto__ as messageID', withField('messageID', '{"__proto__":{"polluted":true}}'), 400],
    ['__proto__ as the whole body', '{"__proto__":{"messageID":"x","version":1,"contentID":"y","polluted":true}}', 400],
  ];
  times(20, () => {
    for (const [kind, body, status] of protoCases) cases.push(answered(kind, post(body), status));
    return answered('__proto__ array', post(withField('__proto__', '[]')), 200);
  });

  // Duplicate keys: the last one wins (JSON.parse semantics).
  const duplicateCases: [string, string, number][] = [
    ['duplicate messageID, last a number', rawRequest([...baseFields(), ['messageID', '5']]), 400],
    ['duplicate version, last good', rawRequest([['version', '"x"'], ...baseFields()]), 200],
    ['duplicate contentID, last good', rawRequest([['contentID', '1'], ...baseFields()]), 200],
    ['duplicate cookie, last too long', rawRequest([...baseFields(), ['customerCookie', '"ok"'], ['customerCookie', JSON.stringify('c'.repeat(33))]]), 400],
  ];
  times(20, () => {
    for (const [kind, body, status] of duplicateCases) cases.push(answered(kind, post(body), status));
    return answered('duplicate requestType, last good', post(rawRequest([...baseFields(), ['requestType', '"x"'], ['requestType', '2']])), 200);
  });

  // Wrong types in every field.
  const values = ['null', 'true', 'false', '[]', '{}', '"str"', '""', '1.5', '0', '[1]', '{"a":1}', '-7'];
  const acceptsAnyString = new Set(['messageID', 'contentID', 'customerCookie']);
  times(3, () => {
    for (const field of ['messageID', 'version', 'contentID', 'requestType', 'customerCookie']) {
      for (const value of values) {
        const status = acceptsAnyString.has(field) && value.startsWith('"') ? 200 : 400;
        cases.push(answered(`${field}: ${value}`, post(withField(field, value)), status));
      }
      cases.push(answered(`${field} missing`, post(rawRequest(baseFields().filter(([name]) => name !== field))), ['messageID', 'version', 'contentID'].includes(field) ? 400 : 200));
    }
    for (const root of ['[]', '"s"', '1', 'null', 'true', '[{}]']) cases.push(answered(`root ${root}`, post(root), 400));
    return answered('empty body', post(''), 400);
  });

  // Not the endpoint, not POST, other content types: journaled with their answers.
  times(20, (i) => {
    const others: [string, Buffer, number][] = [
      ['GET', Buffer.from(`GET ${PATH} HTTP/1.1\r\nHost: localhost\r\n\r\n`), 405],
      ['DELETE with body', Buffer.from(`DELETE ${PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}`), 405],
      ['wrong path', httpPost('/entitlement/../admin', rawRequest(baseFields())), 404],
      ['text/plain', post(rawRequest(baseFields()), { 'Content-Type': 'text/plain' }), 200],
      ['chunked, complete', Buffer.from(`POST ${PATH} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"m\r\n0\r\n\r\n`), 400],
    ];
    const [kind, bytes, status] = others[i % others.length] as [string, Buffer, number];
    return answered(kind, bytes, status);
  });

  // Too large: refused with 413 and the connection closed.
  times(10, () => ({ kind: 'declared 1 TB', bytes: Buffer.from(`POST ${PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000000000\r\n\r\n`), status: 413, closes: true, journaled: true }));
  times(10, () => ({ kind: 'declared 64 KiB + 1', bytes: Buffer.from(`POST ${PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${64 * 1024 + 1}\r\n\r\n`), status: 413, closes: true, journaled: true }));

  // Refused by the HTTP parser before any request exists: answered, recorded, closed.
  const parserRefused = (kind: string, bytes: Buffer, status: number, refusal: string): AdversarialCase => ({ kind, bytes, status, closes: true, journaled: false, refusal });
  // (Node counts the bytes of header names and values: 3,000 `X-Hn: v` lines are 22 KiB of them.)
  times(30, () => {
    const headers = Object.fromEntries(Array.from({ length: 3000 + int(3000) }, (_, i) => [`X-H${i}`, 'v']));
    return parserRefused('thousands of headers', post(rawRequest(baseFields()), headers), 431, 'HTTP request headers too large');
  });
  times(10, () => {
    const headers = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`X-H${i}`, 'v']));
    return answered('1,500 headers, under 16 KiB', post(rawRequest(baseFields()), headers), 200);
  });
  times(10, () => parserRefused('a 20 KiB header', post(rawRequest(baseFields()), { 'X-Big': 'b'.repeat(20 * 1024) }), 431, 'HTTP request headers too large'));
  times(100, () => {
    let line = randomBytes(1 + int(200));
    line = Buffer.from(line.map((byte) => (byte === 13 || byte === 10 ? 0 : byte)));
    if (line[0] !== undefined && line[0] >= 65 && line[0] <= 90) line[0] = 0; // not the start of a method name
    return parserRefused('random bytes instead of HTTP', Buffer.concat([line, Buffer.from('\r\n\r\n')]), 400, 'HTTP request malformed');
  });
  times(10, () => parserRefused('Content-Length not a number', post('{}', { 'Content-Length': 'abc' }), 400, 'HTTP request malformed'));
  times(10, () =>
    parserRefused(
      'Content-Length and chunked',
      Buffer.from(`POST ${PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`),
      400,
      'HTTP request malformed',
    ),
  );
  // Broken framing inside a body the app is reading: the app answers 400 and journals it.
  times(10, () => ({
    kind: 'bad chunk size',
    bytes: Buffer.from(`POST ${PATH} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`),
    status: 400,
    closes: true,
    journaled: true,
  }));

  // A body longer than declared: the declared part is answered, the rest is garbage the parser refuses.
  times(20, () => {
    const body = rawRequest(baseFields());
    return {
      kind: 'body longer than declared',
      bytes: Buffer.concat([post(body), Buffer.from('trailing garbage that is no request\r\n\r\n')]),
      status: 200,
      closes: true,
      journaled: true,
      refusal: 'HTTP request malformed',
    };
  });

  // Bodies that never finish: only the body timeout ends them (408, then close).
  times(5, () => ({ kind: 'body shorter than declared', bytes: post('{"messageID":', { 'Content-Length': 200 }), status: 408, closes: true, journaled: true, stalls: true }));
  times(5, () => ({
    kind: 'chunked body that never ends',
    bytes: Buffer.from(`POST ${PATH} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"mes\r\n`),
    status: 408,
    closes: true,
    journaled: true,
    stalls: true,
  }));

  // Shuffle, so that every kind meets every other on a kept-alive connection.
  for (let i = cases.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [cases[i], cases[j]] = [cases[j] as AdversarialCase, cases[i] as AdversarialCase];
  }
  return cases;
}
