/** `status <task_id> [--watch]`: a task's state and counts, or following it to its end. */
import type { Command } from '../context';
import { exitCodeOf } from '../exitCodes';
import { pollIntervalMs } from '../commandLine';
import { statusBlock } from '../progress';
import { followTask, followToExitCode, getTask } from '../watch';

export const status: Command = async (context) => {
  const [taskId] = context.positionals;
  if (context.options.watch && context.options.json) {
    // The JSON answer is the result; the progress goes beside it.
    const task = await followTask(context.api, taskId, context.err, { intervalMs: pollIntervalMs(context.options), sleep: context.sleep });
    context.out.write(`${JSON.stringify(task, null, 2)}\n`);
    return exitCodeOf(task.status);
  }
  if (context.options.watch) return followToExitCode(context, taskId);
  const task = await getTask(context.api, taskId);
  context.out.write(`${context.options.json ? JSON.stringify(task, null, 2) : statusBlock(task)}\n`);
  return exitCodeOf(task.status);
};
