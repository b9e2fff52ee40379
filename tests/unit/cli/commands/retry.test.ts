import { ApiError } from '../../../../cli/apiClient';
import { isMissingRoute } from '../../../../cli/commands/retry';

describe('retry', () => {
  it('tells an API without the retry route from a refused retry', () => {
    expect(isMissingRoute(new ApiError(404, '', { error: 'no route POST /tasks/t/retry; routes: GET /tasks' }))).toBe(true);
    expect(isMissingRoute(new ApiError(405, '', { error: 'use GET /tasks/t/retry' }))).toBe(true);
    expect(isMissingRoute(new ApiError(403, '', { message: 'Missing Authentication Token' }))).toBe(true);
    expect(isMissingRoute(new ApiError(404, '', { error: 'no task with task_id "t"' }))).toBe(false);
    expect(isMissingRoute(new ApiError(409, '', { error: 'task t is COMPLETED' }))).toBe(false);
    expect(isMissingRoute(new ApiError(403, '', { message: 'Forbidden' }))).toBe(false);
  });
});
