/** `cancel <task_id>`: ends a task as CANCELLED; its chunks not yet embedded are skipped. */
import type { StatusView } from '../../shared/domain/task';
import type { Command } from '../context';
import { EXIT } from '../exitCodes';
import { summaryLine } from '../progress';

export const cancel: Command = async (context) => {
  const [taskId] = context.positionals;
  const { status, body } = await context.api.post<StatusView>('/cancel', { query: { task_id: taskId }, expect: [200, 409] });
  if (status === 409) {
    context.err.write(`task ${taskId} had already ended: ${summaryLine(body)}\n`);
    return EXIT.apiError;
  }
  context.out.write(`${summaryLine(body)}\n`);
  return EXIT.ok;
};
