/** Starting a task: record it as PENDING, then announce TaskRequested for the planner. */
import type { Dependencies } from '../dependencies';
import type { TaskRequested } from '../events/types';
import type { Task } from '../domain/task';

export interface RequestedTask {
  /** False when a task with this id already existed (a repeated request). */
  created: boolean;
  task: Task;
}

export async function requestTask(request: TaskRequested, deps: Dependencies): Promise<RequestedTask> {
  const { created, task } = await deps.tasks.create(
    { taskId: request.taskId, dataSource: request.source.type, namespace: request.namespace ?? deps.config.pinecone.namespace, request },
    deps.now(),
  );
  // A repeat of a request whose announcement was lost (a crash right after the write) announces again.
  if (!created && task.status !== 'PENDING') return { created, task };
  try {
    await deps.events.publish([{ detailType: 'TaskRequested', source: deps.config.eventSource, detail: request }]);
  } catch (error) {
    // The bus is unreachable, so no TaskCompleted either: the caller gets the error, /status the reason.
    await deps.tasks.finish(task.taskId, 'FAILED', deps.now(), `could not publish TaskRequested: ${(error as Error).message}`);
    throw error;
  }
  return { created, task };
}
