/** The CLI (README › CLI): parses the command line, runs the command, and turns failures into exit codes. */
import { ApiError, createApiClient, UnreachableError } from './apiClient';
import { commandHelp, parseCommandLine, PROGRAM, programHelp, UsageError, type CommandName } from './commandLine';
import type { Command, Output } from './context';
import { EXIT } from './exitCodes';
import { cancel } from './commands/cancel';
import { ingest } from './commands/ingest';
import { retry } from './commands/retry';
import { search } from './commands/search';
import { status } from './commands/status';
import { tasks } from './commands/tasks';
import { apiSettings } from './settings';

const RUN: Record<CommandName, Command> = { ingest, status, tasks, search, retry, cancel };

export interface Io {
  out: Output;
  err: Output;
  env: Record<string, string | undefined>;
  sleep?: (ms: number) => Promise<unknown>;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let command: CommandName | undefined;
  try {
    const line = parseCommandLine(argv);
    if (line.kind === 'help') {
      io.out.write(line.command ? commandHelp(line.command) : programHelp());
      return EXIT.ok;
    }
    command = line.command;
    const settings = apiSettings(line.options, io.env);
    return await RUN[line.command]({ ...line, ...io, api: createApiClient(settings), apiSettings: settings });
  } catch (error) {
    if (error instanceof UsageError) {
      const help = (error.command ?? command) ? commandHelp((error.command ?? command) as CommandName) : programHelp();
      io.err.write(`${PROGRAM}: ${error.message}\n\n${help}`);
      return EXIT.usage;
    }
    if (error instanceof UnreachableError) {
      io.err.write(`${PROGRAM}: ${error.message}\n`);
      return EXIT.unreachable;
    }
    if (error instanceof ApiError) {
      io.err.write(`${PROGRAM}: ${error.message}\n`);
      return EXIT.apiError;
    }
    io.err.write(`${PROGRAM}: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.unexpected;
  }
}

/** A terminal's width may change while a task is followed; a pipe or a file has none, and its lines are never cut. */
const terminal = (stream: NodeJS.WriteStream): Output => ({
  write: (text) => stream.write(text),
  isTTY: Boolean(stream.isTTY),
  get columns() {
    return stream.isTTY ? stream.columns || 80 : Number.POSITIVE_INFINITY;
  },
});

/** The process's own streams and environment; Ctrl-C ends the bar's line before leaving. */
export function run(argv: string[]): void {
  process.once('SIGINT', () => {
    process.stderr.write(`\n${PROGRAM}: interrupted; a task it started or followed goes on (${PROGRAM} tasks)\n`);
    process.exit(EXIT.interrupted);
  });
  main(argv, { out: terminal(process.stdout), err: terminal(process.stderr), env: process.env }).then((code) => {
    process.exitCode = code;
  });
}
