/**
 * Following a task to its end: polls GET /tasks/{task_id}, redraws one bar line on a terminal or
 * prints a line per change otherwise, and ends with the errors and the summary line.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isTerminal } from '../shared/domain/task';
import type { TaskDetailView } from '../shared/domain/taskDetail';
import { ApiError, UnreachableError, type ApiClient } from './apiClient';
import type { CommandContext, Output } from './context';
import { exitCodeOf } from './exitCodes';
import { pollIntervalMs } from './commandLine';
import { barLine, errorLines, plainLine, summaryLine } from './progress';

export interface FollowOptions {
  intervalMs: number;
  sleep?: (ms: number) => Promise<unknown>;
}

/** Erases the terminal line the bar is on, to redraw it. */
const REDRAW = '\r\x1b[2K';
/** Polls that may fail in a row (a blip, a cold start's 5xx) before following gives up. */
const MAX_FAILED_POLLS = 3;

export async function getTask(client: ApiClient, taskId: string): Promise<TaskDetailView> {
  return (await client.get<TaskDetailView>(`/tasks/${encodeURIComponent(taskId)}`)).body;
}

const transient = (error: unknown) =>
  error instanceof UnreachableError || (error instanceof ApiError && (error.status >= 500 || error.status === 429));

export async function followTask(client: ApiClient, taskId: string, out: Output, options: FollowOptions): Promise<TaskDetailView> {
  const sleep = options.sleep ?? delay;
  let drawn = false;
  let lastChange = '';
  let failedPolls = 0;
  for (;;) {
    let task: TaskDetailView;
    try {
      task = await getTask(client, taskId);
      failedPolls = 0;
    } catch (error) {
      failedPolls += 1;
      if (!transient(error) || failedPolls >= MAX_FAILED_POLLS) {
        if (drawn) out.write('\n');
        throw error;
      }
      await sleep(options.intervalMs);
      continue;
    }
    if (isTerminal(task.status)) {
      out.write(`${drawn ? REDRAW : ''}${[...errorLines(task), summaryLine(task)].join('\n')}\n`);
      return task;
    }
    if (out.isTTY) {
      out.write(`${REDRAW}${barLine(task, out.columns)}`);
      drawn = true;
    } else {
      // The rate and ETA move with the clock alone: a log gets a line when the work moved.
      const change = `${task.status} ${task.records.total} ${task.records.processed + task.records.skipped + task.records.failed}`;
      if (change !== lastChange) out.write(`${plainLine(task)}\n`);
      lastChange = change;
    }
    await sleep(options.intervalMs);
  }
}

/** --watch: follows the task on `out` and answers the exit code of how it ended. */
export async function followToExitCode(context: CommandContext, taskId: string, out: Output = context.out): Promise<number> {
  const task = await followTask(context.api, taskId, out, { intervalMs: pollIntervalMs(context.options), sleep: context.sleep });
  return exitCodeOf(task.status);
}
