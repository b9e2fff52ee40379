/** What every command is given: its arguments, the API, where to write, the environment. */
import type { ApiClient } from './apiClient';
import type { Options } from './commandLine';
import type { ApiSettings } from './settings';

export interface Output {
  write(text: string): void;
  isTTY: boolean;
  columns: number;
}

export interface CommandContext {
  positionals: string[];
  options: Options;
  api: ApiClient;
  apiSettings: ApiSettings;
  out: Output;
  /** Messages about the work (uploads, hints), apart from its results on `out`. */
  err: Output;
  env: Record<string, string | undefined>;
  sleep?: (ms: number) => Promise<unknown>;
}

/** Runs a command; resolves to its exit code (exitCodes.ts). */
export type Command = (context: CommandContext) => Promise<number>;
