/**
 * The random source behind `random:` choices and uniform delays. With `--seed N` a run
 * can be replayed: the same seed gives the same sequence of choices.
 */
import { randomInt } from 'node:crypto';
import type { RandomSource } from './engine.js';

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator; passes PractRand),
 * its state filled from the seed by splitmix32. Any number is a valid seed: its
 * integer part is used, up to 2^53.
 */
export function seededRandom(seed: number): RandomSource {
  const whole = Number.isFinite(seed) ? Math.trunc(seed) : 0;
  const low = whole >>> 0;
  const high = Math.floor(whole / 2 ** 32) >>> 0;
  const mix = splitmix32(low ^ Math.imul(high, 0x9e3779b9));
  let a = mix();
  let b = mix();
  let c = mix();
  let d = 1; // counter
  for (let i = 0; i < 12; i++) next(); // discard the first outputs
  function next(): number {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  return next;
}

/** A fresh seed when none is given (log it so the run can be replayed with --seed). */
export function defaultSeed(): number {
  return randomInt(0, 2 ** 32);
}

function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}
