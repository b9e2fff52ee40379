/**
 * The large-CSV state machine definition (infra/state-machine.asl.json): valid ASL (asl-validator,
 * after the DefinitionSubstitutions CloudFormation applies), its tasks the wired ones, failures
 * caught into the fail step, and the loop far from Standard's 25,000 history events.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadWiring } from '../../../infra/wiring';

// asl-validator ships no types: a function of the definition answering { isValid, errors }.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown) => { isValid: boolean; errors: unknown[] };

const wiring = loadWiring();
const machine = wiring.stateMachines.largeCsv;
const text = readFileSync(path.resolve(__dirname, '../../..', machine.definition), 'utf8');
const definition = JSON.parse(text);
const substituted = JSON.parse(
  text.replace(/\$\{(\w+)FunctionArn\}/g, 'arn:aws:lambda:us-east-1:123456789012:function:vectordb-catchup-dev-$1'),
);

describe('large-CSV state machine definition', () => {
  it('is valid ASL once its task ARNs are substituted', () => {
    const result = aslValidator(substituted);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('invokes exactly the wired task functions', () => {
    const resources = Object.values(definition.States as Record<string, { Type: string; Resource?: string }>)
      .filter((state) => state.Type === 'Task')
      .map((state) => state.Resource);
    const expected = Object.keys(machine.tasks).map((task) => `\${${task[0].toUpperCase()}${task.slice(1)}FunctionArn}`);
    expect([...new Set(resources)].sort()).toEqual(expected.sort());
  });

  it('retries Lambda service errors with backoff and catches everything into FailPlan', () => {
    for (const name of ['PlanSegment', 'FinishPlan']) {
      const state = definition.States[name];
      expect(state.Retry[0].ErrorEquals).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'Lambda.SdkClientException']),
      );
      expect(state.Retry[0].BackoffRate).toBeGreaterThan(1);
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FailPlan' }]);
    }
    // A source error (SourceError) is not retried: only service errors and timeouts are.
    expect(definition.States.PlanSegment.Retry[0].ErrorEquals).not.toContain('States.ALL');
    expect(definition.States.FailPlan.Next).toBe('PlanningFailed');
    expect(definition.States.PlanningFailed.Type).toBe('Fail');
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
  });

  it('loops in a handful of history events per segment: thousands of segments stay under 25,000', () => {
    // A Lambda Task: StateEntered, LambdaFunctionScheduled, Started, Succeeded, StateExited (5);
    // the Choice: StateEntered, StateExited (2). Plus ExecutionStarted/Succeeded and FinishPlan.
    const perSegment = 5 + 2;
    const fixed = 2 + 5;
    const maxSegments = Math.floor((25_000 - fixed) / perSegment);
    expect(maxSegments).toBeGreaterThan(3000);
    // A 10,000,000-row file (~ 2 GB at ~200 B a row) at the slowest planning speed we plan for
    // (4 MiB/s on a throttled Lambda) and a 10-minute segment budget needs
    // 2 GB / (4 MiB/s × 600 s) ≈ 1 segment; even 1-minute segments would need ≈ 8.
    const segments = Math.ceil((2 * 1024 ** 3) / (4 * 1024 ** 2 * 60));
    expect(segments * perSegment + fixed).toBeLessThan(25_000);
    // The state the loop carries: counters + a header capped at 64 KiB, far below 256 KiB.
    expect(Object.keys(definition.States)).toEqual(['PlanSegment', 'SegmentsLeft', 'FinishPlan', 'FailPlan', 'PlanningFailed']);
  });
});
