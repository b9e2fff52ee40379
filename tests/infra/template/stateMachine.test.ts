/**
 * The large-CSV state machine as deployed: definition, substitutions, role, routing of bad endings, alarms.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  actionsOf,
  allFunctions,
  asArray,
  consumers,
  getAtt,
  type Json,
  ofType,
  pascal,
  resource,
  roleStatements,
  ROOT,
  SERVICE,
  STAGE,
  stateMachines,
  type Statement,
  taskFunctions,
  usePackagedTemplate,
} from './helpers';

usePackagedTemplate();

describe('Step Functions (large-CSV fan-out)', () => {
  const ROOT_DEFINITION = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));

  it.each(stateMachines)('%s: a STANDARD machine deploying the ASL file, its task ARNs substituted', (name, machine) => {
    const props = resource(`${pascal(name)}StateMachine`).Properties;
    expect(props.StateMachineType).toBe('STANDARD');
    expect(props.StateMachineName).toBe(`${SERVICE}-${STAGE}-${name}`);
    expect(props.Definition).toEqual(ROOT_DEFINITION(machine.definition));
    expect(props.RoleArn).toEqual(getAtt(`${pascal(name)}StateMachineRole`));
    // Every ${...} the definition uses is substituted, with the ARN of a wired task function.
    const used = [...JSON.stringify(props.Definition).matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]);
    expect([...new Set(used)].sort()).toEqual(Object.keys(props.DefinitionSubstitutions).sort());
    expect(props.DefinitionSubstitutions).toEqual(
      Object.fromEntries(Object.keys(machine.tasks).map((task) => [`${pascal(task)}FunctionArn`, getAtt(`${pascal(task)}LambdaFunction`)])),
    );
  });

  it.each(stateMachines)('%s: its role is assumed by Step Functions and may invoke exactly its task functions', (name, machine) => {
    const role = resource(`${pascal(name)}StateMachineRole`).Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    const statements: Statement[] = role.Policies.flatMap((p: Json) => p.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: ['lambda:InvokeFunction'] });
    expect(asArray(statements[0].Resource)).toEqual(Object.keys(machine.tasks).map((task) => getAtt(`${pascal(task)}LambdaFunction`)));
  });

  it('task functions have no event source: only their machine invokes them', () => {
    for (const [name] of taskFunctions) {
      const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
        ([, r]) => r.Properties.FunctionName['Fn::GetAtt'][0] === `${pascal(name)}LambdaFunction`,
      );
      expect(mappings).toEqual([]);
      expect(
        ofType('AWS::Lambda::Permission').filter(([, r]) =>
          JSON.stringify(r.Properties.FunctionName).includes(`${pascal(name)}LambdaFunction`),
        ),
      ).toEqual([]);
    }
    // Planning a segment may take the whole 15 minutes; it stops itself before (LARGE_CSV_SEGMENT_MARGIN_MS).
    expect(resource('PlanSegmentLambdaFunction').Properties.Timeout).toBe(900);
  });

  it('routes failed, timed-out and aborted executions of the machine (default bus) to their consumer queue', () => {
    const watchers = consumers.filter(([, c]) => c.trigger.stateMachine);
    expect(watchers.map(([name]) => name)).toEqual(['executionEnded']);
    for (const [name, c] of watchers) {
      const rule = resource(`${pascal(name)}Rule`).Properties;
      expect(rule.EventBusName).toBeUndefined();
      expect(rule.EventPattern).toEqual({
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [{ Ref: `${pascal(c.trigger.stateMachine!)}StateMachine` }],
        },
      });
      expect(rule.Targets).toEqual([expect.objectContaining({ Arn: getAtt(`${pascal(name)}Queue`) })]);
    }
  });

  it('lets only the planner start executions, of that machine only, and tells it the ARN', () => {
    for (const [name] of allFunctions) {
      const starts = roleStatements(name).filter((s) => actionsOf([s]).some((a) => a.startsWith('states:')));
      if (name !== 'planner') {
        expect(starts).toEqual([]);
        continue;
      }
      expect(starts).toHaveLength(1);
      expect(starts[0].Action).toEqual(['states:StartExecution']);
      expect(asArray(starts[0].Resource)).toEqual([{ Ref: 'LargeCsvStateMachine' }]);
    }
    expect(resource('PlannerLambdaFunction').Properties.Environment.Variables.LARGE_CSV_STATE_MACHINE_ARN).toEqual({
      Ref: 'LargeCsvStateMachine',
    });
  });

  it('alarms on any failed or timed-out execution', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm')
      .map(([, r]) => r.Properties)
      .filter((a) => a.Namespace === 'AWS/States');
    expect(alarms.map((a) => a.MetricName).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const alarm of alarms)
      expect(alarm).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'LargeCsvStateMachine' } }],
      });
  });
});
