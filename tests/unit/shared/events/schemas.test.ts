import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { eventNames, eventSchemas } from '../../../../events-schema';
import { InvalidEventError } from '../../../../shared/errors';
import { pipelineEvents } from '../../../../shared/events/publish';
import type { TaskRequested } from '../../../../shared/events/types';
import { validateEvent } from '../../../../shared/events/validate';
import type { BusEvent } from '../../../../shared/ports';

describe('events-schema', () => {
  it('the TypeScript types are generated from the current schemas (npm run gen:event-types)', () => {
    // The generator loads prettier through a dynamic import, which jest's module system cannot do.
    const root = path.resolve(__dirname, '../../../..');
    expect(() =>
      execFileSync(path.join(root, 'node_modules/.bin/tsx'), ['events-schema/generate-types.ts', '--check'], { cwd: root, stdio: 'pipe' }),
    ).not.toThrow();
  });

  it.each(eventNames)('%s is closed (additionalProperties: false) and versioned', (name) => {
    const schema = eventSchemas[name] as {
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, unknown>;
      $id: string;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toContain('schemaVersion');
    expect(schema.properties.schemaVersion).toEqual({ const: 1 });
    expect(schema.$id).toMatch(new RegExp(`/${name}\\.v1\\.json$`));
  });
});

describe('validateEvent', () => {
  const request = { schemaVersion: 1, taskId: 'run-1', source: { type: 's3_csv', key: 'a.csv' } };

  it('accepts a valid event and returns it typed', () => {
    expect(validateEvent('TaskRequested', request).taskId).toBe('run-1');
  });

  it('names every problem: missing, unknown and malformed fields', () => {
    try {
      validateEvent('TaskRequested', {
        ...request,
        taskId: 'bad id!',
        startDate: '2025/01/01',
        surprise: true,
        source: { type: 'ftp', key: 'a' },
      });
      throw new Error('expected a rejection');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEventError);
      const { problems } = error as InvalidEventError;
      expect(problems).toEqual(
        expect.arrayContaining([
          '(root) must NOT have additional properties (surprise)',
          '/taskId must match pattern "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"',
          '/startDate must match pattern "^(\\d{4}-\\d{2}-\\d{2}|auto)$"',
        ]),
      );
    }
  });

  it('rejects a future schema version', () => {
    expect(() => validateEvent('TaskRequested', { ...request, schemaVersion: 2 })).toThrow(/schemaVersion must be equal to constant/);
  });
});

describe('pipelineEvents', () => {
  const task = (taskId: string) => ({ schemaVersion: 1 as const, taskId, source: { type: 's3_csv' as const, key: 'k' } });

  it('refuses to publish an event that breaks its contract, and publishes nothing of that call', async () => {
    const published: BusEvent[][] = [];
    const events = pipelineEvents({ publish: async (batch) => void published.push(batch) }, 's');
    const broken = { schemaVersion: 1, taskId: 'bad' } as unknown as TaskRequested;
    await expect(events.publish('TaskRequested', [task('ok'), broken])).rejects.toThrow(InvalidEventError);
    expect(published).toEqual([]);
    await events.publish('TaskRequested', [task('ok')]);
    expect(published).toEqual([[{ detailType: 'TaskRequested', source: 's', detail: task('ok') }]]);
  });
});
