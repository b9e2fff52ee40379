/** `tasks`: one page of tasks, newest first, as a table. */
import type { taskListItem } from '../../shared/domain/taskList';
import { PROGRAM, stringOption } from '../commandLine';
import type { Command } from '../context';
import { EXIT } from '../exitCodes';
import { formatCount, formatPercent, formatTime, renderTable } from '../format';

type TaskListItem = ReturnType<typeof taskListItem>;

export const tasks: Command = async (context) => {
  const option = (name: string) => stringOption(context.options, name);
  const query = {
    status: option('status')?.toUpperCase(),
    data_source: option('source'),
    dataset: option('dataset'),
    limit: option('limit'),
    cursor: option('cursor'),
  };
  const { body } = await context.api.get<{ tasks: TaskListItem[]; next_cursor: string | null }>('/tasks', { query });
  if (context.options.json) {
    context.out.write(`${JSON.stringify(body, null, 2)}\n`);
    return EXIT.ok;
  }
  if (body.tasks.length === 0) {
    context.out.write('no tasks\n');
    return EXIT.ok;
  }
  const rows = body.tasks.map((task) => {
    const done = task.records.processed + task.records.skipped + task.records.failed;
    return [
      task.task_id,
      task.status,
      formatPercent(task.progress),
      `${formatCount(done)}/${task.records.total === null ? '?' : formatCount(task.records.total)}`,
      formatCount(task.records.failed),
      task.dataset,
      formatTime(task.created_at),
    ];
  });
  context.out.write(`${renderTable(['TASK', 'STATUS', 'DONE', 'RECORDS', 'FAILED', 'DATASET', 'CREATED (UTC)'], rows)}\n`);
  if (body.next_cursor) {
    const filters = Object.entries({ status: query.status, source: query.data_source, dataset: query.dataset, limit: query.limit })
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => ` --${name} ${value}`)
      .join('');
    context.out.write(`next page: ${PROGRAM} tasks${filters} --cursor ${body.next_cursor}\n`);
  }
  return EXIT.ok;
};
