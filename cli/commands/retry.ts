/** `retry <task_id> [--watch]`: runs the failed parts of a PARTIAL or FAILED task again. */
import { ApiError, errorText } from '../apiClient';
import type { Command } from '../context';
import { EXIT } from '../exitCodes';
import { followToExitCode } from '../watch';

const ROUTE = 'POST /tasks/{task_id}/retry';

export const retry: Command = async (context) => {
  const [taskId] = context.positionals;
  try {
    await context.api.post(`/tasks/${encodeURIComponent(taskId)}/retry`, { expect: [202] });
  } catch (error) {
    if (error instanceof ApiError && isMissingRoute(error))
      throw new ApiError(error.status, `the API at ${context.apiSettings.url} has no ${ROUTE}: it is older than this CLI`, error.body);
    throw error;
  }
  context.err.write(`task ${taskId}: its failed parts run again\n`);
  return context.options.watch ? followToExitCode(context, taskId) : EXIT.ok;
};

/** The local runtime answers a route it lacks with 404 "no route …" (405 for another method), API Gateway with 403. */
export function isMissingRoute(error: ApiError): boolean {
  const text = errorText(error.body, '');
  return (
    error.status === 405 ||
    (error.status === 404 && text.startsWith('no route')) ||
    (error.status === 403 && text === 'Missing Authentication Token')
  );
}
