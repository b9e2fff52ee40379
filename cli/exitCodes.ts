/** What the CLI's exit codes mean (README › CLI, and `--help`): a script branches on them. */
import type { TaskStatus } from '../shared/domain/task';

export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  partial: 3,
  failed: 4,
  cancelled: 5,
  unfinished: 6,
  apiError: 7,
  unreachable: 8,
  interrupted: 130,
} as const;

export const EXIT_CODE_TABLE: readonly [number, string][] = [
  [EXIT.ok, 'done; a task followed or shown ended COMPLETED'],
  [EXIT.unexpected, 'unexpected error (a bug: please report it)'],
  [EXIT.usage, 'usage error: unknown command or option, missing argument, no such file'],
  [EXIT.partial, 'the task ended PARTIAL: some records failed'],
  [EXIT.failed, 'the task ended FAILED'],
  [EXIT.cancelled, 'the task ended CANCELLED'],
  [EXIT.unfinished, '`status` without --watch: the task is still PENDING or RUNNING'],
  [EXIT.apiError, 'the API refused the request (unknown task, bad key or parameter, cannot cancel or retry it)'],
  [EXIT.unreachable, 'the API (or the local S3) could not be reached'],
  [EXIT.interrupted, 'interrupted (Ctrl-C) while following a task; the task goes on'],
];

export function exitCodeOf(status: TaskStatus): number {
  switch (status) {
    case 'COMPLETED':
      return EXIT.ok;
    case 'PARTIAL':
      return EXIT.partial;
    case 'FAILED':
      return EXIT.failed;
    case 'CANCELLED':
      return EXIT.cancelled;
    case 'PENDING':
    case 'RUNNING':
      return EXIT.unfinished;
  }
}
