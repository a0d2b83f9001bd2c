/** Shared command-line parsing: node's parseArgs, strict, with one-line errors that name the option. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line: the CLI prints its message on one line and exits 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

type ValueOfType<Kind> = Kind extends 'boolean' ? boolean : string;

/** What parseArgs gives for these options: a value per option given (written out so the build can declare it). */
export type FlagValues<T extends Options> = {
  -readonly [K in keyof T]?: T[K] extends { multiple: true } ? ValueOfType<T[K]['type']>[] : ValueOfType<T[K]['type']>;
};

export function parseFlags<const T extends Options>(args: string[], options: T): FlagValues<T> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as FlagValues<T>;
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }));
  }
}

function describeParseError(error: Error & { code?: string }): string {
  const option = /'([^']+)'/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return option ? `${option.split(' ')[0]}: needs a value` : firstLine(error.message);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${option ?? ''}`.trim();
    default:
      return firstLine(error.message);
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
