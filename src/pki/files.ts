/** File handling shared by the dev PKI and the trouble certificates: pairs on disk, written once, never overwritten. */
import { constants } from 'node:fs';
import { access, chmod, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface KeyPairFiles {
  certPath: string;
  keyPath: string;
  certExists: boolean;
  keyExists: boolean;
}

export async function keyPairFiles(dir: string, baseName: string): Promise<KeyPairFiles> {
  const certPath = join(dir, `${baseName}.crt`);
  const keyPath = join(dir, `${baseName}.key`);
  const [certExists, keyExists] = await Promise.all([fileExists(certPath), fileExists(keyPath)]);
  return { certPath, keyPath, certExists, keyExists };
}

export const isComplete = (pair: KeyPairFiles): boolean => pair.certExists && pair.keyExists;
export const isAbsent = (pair: KeyPairFiles): boolean => !pair.certExists && !pair.keyExists;

/** A certificate without its key (or the reverse) cannot be completed without overwriting: say which file to remove. */
export function halfPairError(pair: KeyPairFiles, purpose: string): Error {
  const [present, missing] = pair.certExists ? [pair.certPath, pair.keyPath] : [pair.keyPath, pair.certPath];
  return new Error(
    `${present} exists but ${missing} does not; cannot make a matching ${purpose} without overwriting ${present}. ` +
      `Supply ${missing}, or remove ${present} to have both generated.`,
  );
}

/** Writes a new file; refuses (never overwrites) when it exists. Keys get mode 0600, certificates 0644. */
export async function writeNewFile(path: string, contents: string, kind: 'key' | 'cert'): Promise<void> {
  try {
    await writeFile(path, contents, { flag: 'wx', mode: kind === 'key' ? 0o600 : 0o644 });
    // The creation mode is filtered by the umask; a key must end up exactly 0600.
    if (kind === 'key') await chmod(path, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new Error(`${path} appeared while the PKI was being generated (is another process writing to the same folder?); not overwritten`);
    }
    throw error;
  }
}

/** Writes key then certificate, so a certificate on disk always has its key beside it. */
export async function writeKeyPair(pair: KeyPairFiles, issued: { certPem: string; keyPem: string }): Promise<string[]> {
  await writeNewFile(pair.keyPath, issued.keyPem, 'key');
  await writeNewFile(pair.certPath, issued.certPem, 'cert');
  return [pair.certPath, pair.keyPath];
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

const folderQueues = new Map<string, Promise<unknown>>();

/**
 * Runs `task` after every earlier task on the same folder in this process has
 * settled, so two callers (e.g. serve and a test fixture) never race to write
 * the same files. Not re-entrant: call unlocked helpers inside.
 */
export function serializedInFolder<T>(dir: string, task: () => Promise<T>): Promise<T> {
  const key = resolve(dir);
  const previous = folderQueues.get(key) ?? Promise.resolve();
  const run = previous.then(task, task);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  folderQueues.set(key, settled);
  void settled.then(() => {
    if (folderQueues.get(key) === settled) folderQueues.delete(key);
  });
  return run;
}
