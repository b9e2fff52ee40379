/** Starting a task: record it as PENDING, then announce TaskRequested for the planner. */
import type { Task, TaskRequest } from '../domain/task';
import type { Dependencies } from '../ports';

export type RequestTaskDeps = Pick<Dependencies, 'config' | 'tasks' | 'events' | 'now'>;

export interface RequestedTask {
  /** False when a task with this id already existed (a repeated request). */
  created: boolean;
  task: Task;
}

/**
 * Whoever creates a task announces it within its own timeout (at most 30 s). A task still PENDING
 * well after that lost its announcement to a crash, and a repeated request announces it again;
 * a repeat arriving sooner (a duplicate notification) is only a duplicate.
 */
export const REANNOUNCE_AFTER_MS = 2 * 60 * 1000;

function announcementLost(task: Task, now: Date): boolean {
  return task.status === 'PENDING' && now.getTime() - Date.parse(task.createdAt) > REANNOUNCE_AFTER_MS;
}

export async function requestTask(request: TaskRequest, deps: RequestTaskDeps): Promise<RequestedTask> {
  const { created, task } = await deps.tasks.create(
    { taskId: request.taskId, dataSource: request.source.type, namespace: request.namespace ?? deps.config.pinecone.namespace, request },
    deps.now(),
  );
  if (!created && !announcementLost(task, deps.now())) return { created, task };
  try {
    await deps.events.publish('TaskRequested', [request]);
  } catch (error) {
    // The bus is unreachable, so no TaskCompleted either: the caller gets the error, /status the reason.
    await deps.tasks.finish(task.taskId, 'FAILED', deps.now(), `could not publish TaskRequested: ${(error as Error).message}`);
    throw error;
  }
  return { created, task };
}
