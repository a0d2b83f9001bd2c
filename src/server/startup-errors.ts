/**
 * Why the mock could not start, in words that say what to change: the folder or
 * listener at fault and the option that moves it. The option is named as the
 * caller knows it: `startMock` callers see the MockOptions field, the command
 * line sees its flag and environment variable (StartupError.describe).
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { MockOptions } from './options.js';

/** Which option to change, and how (advice reads on with "with <option>"). */
export interface StartupFix {
  option: keyof MockOptions;
  advice: string;
}

export class StartupError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: StartupFix | null = null,
    /** Lines that follow the message (e.g. the scenario files' errors). */
    readonly details: readonly string[] = [],
  ) {
    super(compose(problem, fix, (option) => `the ${option} option`, details));
    this.name = 'StartupError';
  }

  /** The message with the option named by `nameOption` (e.g. "--certs or EM_CERTS"). */
  describe(nameOption: (option: keyof MockOptions) => string): string {
    return compose(this.problem, this.fix, nameOption, this.details);
  }
}

function compose(problem: string, fix: StartupFix | null, nameOption: (option: keyof MockOptions) => string, details: readonly string[]): string {
  const first = fix ? `${problem}; ${fix.advice} with ${nameOption(fix.option)}` : problem;
  return [first, ...details].join('\n');
}

const WRITE_FAILURES: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
};

/** A failure to write the development PKI into `certs` as a StartupError naming the folder, or null for other failures. */
export function certsFolderError(error: unknown, certs: string): StartupError | null {
  const { code, path = certs } = error as NodeJS.ErrnoException;
  let reason: string | null = null;
  if (code === 'ENOTDIR' || code === 'EEXIST') reason = fileInTheWay(path, certs);
  else if (code !== undefined && WRITE_FAILURES[code] !== undefined) reason = `${WRITE_FAILURES[code]} (${path})`;
  if (reason === null) return null;
  return new StartupError(`cannot start: cannot write the development PKI to ${certs}: ${reason}`, {
    option: 'certs',
    advice: 'choose another folder',
  });
}

/** "it is a file, not a folder" (the folder itself) or "<path> is a file, not a folder" (a parent), or null when nothing is. */
function fileInTheWay(path: string, certs: string): string | null {
  for (let at = resolve(path); ; at = dirname(at)) {
    let isFolder: boolean | null = null;
    try {
      isFolder = statSync(at).isDirectory();
    } catch {
      // absent, or under a file: look further up
    }
    if (isFolder === false) return at === resolve(certs) ? 'it is a file, not a folder' : `${at} is a file, not a folder`;
    if (isFolder === true || dirname(at) === at) return null;
  }
}

/** A listener as the messages name it, and the options that move it. */
export interface ListenerRole {
  /** "the entitlement listener", "trouble listener 2 of 4 (wrong-host)" */
  name: string;
  portOption: keyof MockOptions;
  hostOption: keyof MockOptions;
  /** How to pick another port, e.g. "choose another port". */
  portAdvice: string;
}

/** A listen failure as a StartupError naming the listener and the option to change, or null for other failures. */
export function listenError(error: unknown, role: ListenerRole, host: string, port: number): StartupError | null {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${role.name} cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`cannot start: ${where}: the port is in use`, { option: role.portOption, advice: role.portAdvice });
    case 'EACCES':
      return new StartupError(`cannot start: ${where}: permission denied (ports below 1024 need privileges)`, {
        option: role.portOption,
        advice: role.portAdvice,
      });
    case 'EADDRNOTAVAIL':
      return new StartupError(`cannot start: ${where}: the address is not one of this machine's`, {
        option: role.hostOption,
        advice: 'choose another address',
      });
    default:
      return null;
  }
}

/** A listener starting; a port in use (and the like) becomes a StartupError naming the listener and its option. */
export async function listening<T>(role: ListenerRole, host: string, port: number, started: Promise<T>): Promise<T> {
  try {
    return await started;
  } catch (error) {
    throw listenError(error, role, host, port) ?? error;
  }
}

/** Writing certificates into the certs folder; a folder that cannot be written becomes a StartupError naming it and --certs. */
export async function writingCerts<T>(certs: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw certsFolderError(error, certs) ?? error;
  }
}
