/** Run a CLI subcommand's `run()` in-process, capturing what it prints, with a temporary environment; or spawn the CLI. */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function runCaptured(
  run: (args: string[]) => Promise<number>,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const output = { stdout: '', stderr: '' };
  const originalOut = process.stdout.write;
  const originalErr = process.stderr.write;
  process.stdout.write = ((chunk: string) => ((output.stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((output.stderr += chunk), true)) as typeof process.stderr.write;
  const setEnv = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  setEnv(env);
  const startedAt = performance.now();
  try {
    const code = await run(args);
    return { code, ...output, ms: performance.now() - startedAt };
  } finally {
    process.stdout.write = originalOut;
    process.stderr.write = originalErr;
    setEnv(saved);
  }
}

/** The CLI as a child process (through tsx), stdout and stderr piped. */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcessByStdio<null, Readable, Readable> {
  return spawnNode(['--import', 'tsx', 'src/cli/entry.ts', ...args], env);
}

/** The installed bin as a child process (the bundle in dist/: run `npm run build` after changing src/), stdout and stderr piped. */
export function spawnBin(args: string[], env: Record<string, string> = {}): ChildProcessByStdio<null, Readable, Readable> {
  return spawnNode(['bin/entitlement-mock.js', ...args], env);
}

function spawnNode(args: string[], env: Record<string, string>): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Wait (at most 15 s, or `timeoutMs`) for a started mock's log line with its URLs; `lines` goes on with the rest of its log.
 * A child that never gets there is killed, so a failed wait cannot leave the test file hanging on it.
 */
export async function startLineOf(child: ChildProcessByStdio<null, Readable, Readable>, timeoutMs = 15_000): Promise<{ startLine: Record<string, any>; lines: Interface }> {
  const lines = createInterface({ input: child.stdout });
  const startLine = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no start line within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    lines.on('line', (line) => {
      const parsed = JSON.parse(line);
      if (parsed.entitlementUrl) {
        clearTimeout(timer);
        resolve(parsed);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited early with ${code}`));
    });
  });
  return { startLine, lines };
}
