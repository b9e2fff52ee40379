/** The HTTP edge's reading of a route's `{task_id}`, as the task routes (detail, retry) use it. */
import { pathTaskId } from '../../../../shared/edges/http';
import { InvalidInputError } from '../../../../shared/errors';

describe('pathTaskId', () => {
  it('decodes a segment the gateway left encoded, and takes one it decoded as it is', () => {
    expect(pathTaskId({ pathParameters: { task_id: 'schedule-nightly-2026-12-02T03%3A00%3A00Z' } })).toBe(
      'schedule-nightly-2026-12-02T03:00:00Z',
    );
    expect(pathTaskId({ pathParameters: { task_id: 'schedule-nightly-2026-12-02T03:00:00Z' } })).toBe(
      'schedule-nightly-2026-12-02T03:00:00Z',
    );
    expect(pathTaskId({ pathParameters: { task_id: ' s3-abc ' } })).toBe('s3-abc');
  });

  it('refuses a missing or empty task_id and a malformed segment, naming task_id', () => {
    for (const pathParameters of [null, {}, { task_id: ' ' }]) {
      expect(() => pathTaskId({ pathParameters })).toThrow(new InvalidInputError('task_id is required', 'task_id'));
    }
    expect(() => pathTaskId({ pathParameters: { task_id: 'a%E0%A4%A' } })).toThrow(
      new InvalidInputError('task_id is not a well-formed URL path segment', 'task_id'),
    );
  });
});
