/** Run a CLI subcommand's `run()` in-process, capturing what it prints, with a temporary environment. */
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
