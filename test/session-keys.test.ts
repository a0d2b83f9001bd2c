/**
 * Session keys: glob intersection checked against brute force (through the real matcher), key
 * overlap rules, and the key index against a linear scan.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileKey, globsIntersect, keysOverlap } from '../src/session/key.js';
import { KeyIndex } from '../src/session/key-index.js';
import { compileMatcher } from '../src/scenario/runtime/matchers.js';

/** Every string over `alphabet` of length 0..max. */
function allStrings(alphabet: string[], max: number): string[] {
  const out = [''];
  let layer = [''];
  for (let length = 1; length <= max; length++) {
    layer = layer.flatMap((prefix) => alphabet.map((ch) => prefix + ch));
    out.push(...layer);
  }
  return out;
}

test('globsIntersect agrees with brute force for every pair of globs of up to 4 symbols over a, b, *, ?', () => {
  const globs = allStrings(['a', 'b', '*', '?'], 4).filter((glob) => glob !== '');
  // A common string, if any, is at most as long as the two globs' non-star symbols together (8);
  // 'c' stands for every character neither glob names.
  const strings = allStrings(['a', 'b', 'c'], 8);
  const matches = globs.map((glob) => {
    const matcher = compileMatcher(glob);
    const bits = new Uint8Array(strings.length);
    strings.forEach((text, i) => (bits[i] = matcher.test(text) ? 1 : 0));
    return bits;
  });
  let intersecting = 0;
  for (let a = 0; a < globs.length; a++) {
    for (let b = a; b < globs.length; b++) {
      const bitsA = matches[a]!;
      const bitsB = matches[b]!;
      let expected = false;
      for (let i = 0; i < strings.length && !expected; i++) expected = bitsA[i] === 1 && bitsB[i] === 1;
      const got = globsIntersect(globs[a]!, globs[b]!);
      if (got !== expected) assert.unreachable(`globsIntersect(${globs[a]}, ${globs[b]}) = ${got}, expected ${expected}`);
      assert.is(globsIntersect(globs[b]!, globs[a]!), got, 'symmetric');
      if (got) intersecting++;
    }
  }
  assert.ok(intersecting > 1000 && intersecting < (globs.length * (globs.length + 1)) / 2, `${intersecting} intersecting pairs`);
});

test('globsIntersect on realistic keys, and characters beyond the basic plane count as one', () => {
  assert.is(globsIntersect('abc-*', 'abc-1*'), true);
  assert.is(globsIntersect('test-1-*', 'test-2-*'), false);
  assert.is(globsIntersect('*-a', '*-b'), false);
  assert.is(globsIntersect('a*', '*b'), true, '"ab" matches both');
  assert.is(globsIntersect('?', '😀'), true);
  assert.is(globsIntersect('??', '😀'), false);
  assert.is(globsIntersect('*'.repeat(500) + 'x', 'y' + '?'.repeat(500)), true, 'y, 499 characters, x');
  assert.is(globsIntersect('*'.repeat(500) + 'x', 'y' + '?'.repeat(500) + 'z'), false);
});

test('keys overlap: same field when a value matches both; different fields always', () => {
  const key = (field: string, pattern: string) => compileKey({ [field]: pattern });
  assert.is(keysOverlap(key('contentID', 'abc'), key('contentID', 'abc')), true);
  assert.is(keysOverlap(key('contentID', 'abc'), key('contentID', 'abd')), false);
  assert.is(keysOverlap(key('contentID', 'abc'), key('contentID', 'a*')), true);
  assert.is(keysOverlap(key('contentID', 'a*'), key('contentID', 'b')), false);
  assert.is(keysOverlap(key('contentID', 'a*'), key('contentID', '*z')), true);
  assert.is(keysOverlap(key('contentID', 'x'), key('clientCN', 'y')), true);
});

test('the key index finds what a linear scan of the keys finds', () => {
  const index = new KeyIndex<string>();
  const keys = [
    ...Array.from({ length: 200 }, (_, n) => compileKey({ contentID: `test-${n}-*` })),
    ...Array.from({ length: 200 }, (_, n) => compileKey({ contentID: `exact-${n}` })),
    compileKey({ contentID: '*-suffix' }),
    compileKey({ contentID: 'p?q' }),
    compileKey({ contentID: 'longer-prefix-*' }),
  ];
  for (const key of keys) index.add(key, key.pattern);
  const values = ['test-7-a', 'test-199-', 'test-200-x', 'exact-5', 'exact-5x', 'a-suffix', 'pxq', 'pq', 'longer-prefix-', 'longer', '', 'test-'];
  for (const value of values) {
    const scanned = keys.find((key) => key.matcher.test(value))?.pattern ?? null;
    assert.is(index.find(value), scanned, value);
  }
  for (const key of keys.filter((_, i) => i % 2 === 0)) index.remove(key, key.pattern);
  assert.is(index.find('test-0-a'), null, 'removed');
  assert.is(index.find('test-1-a'), 'test-1-*', 'kept');
  assert.is(index.find('exact-1'), 'exact-1');
  assert.is(index.find('exact-0'), null);
});

test.run();
