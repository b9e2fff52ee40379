/**
 * Scheduled catch-ups on the packaged template: none unless configured; with CATCHUP_SCHEDULE settings and a schedules file,
 * one EventBridge Scheduler schedule each, putting a start_date=auto TaskRequested on the stage's bus through a role that may do
 * only that; a schedule expression EventBridge would refuse fails `serverless package`, naming it.
 */
import { OPTIONAL_SETTINGS, ofType, usePackagedTemplate, getAtt, roleStatements, scheduledFunctions, type Json } from './helpers';
import { packagedTemplate } from './packaging';

usePackagedTemplate();
const withSchedules = usePackagedTemplate(OPTIONAL_SETTINGS);

describe('scheduled functions in the template', () => {
  it('invokes the sweeper by an EventBridge rule on its wired schedule, with a role that may list, update and announce tasks only', () => {
    const [[name, sweeper]] = scheduledFunctions;
    expect(name).toBe('sweeper');
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) => rule.Properties.ScheduleExpression !== undefined);
    expect(rules.map(([, rule]) => rule.Properties.ScheduleExpression)).toEqual([sweeper.schedule]);
    expect(rules[0][1].Properties.Targets).toEqual([expect.objectContaining({ Arn: getAtt('SweeperLambdaFunction') })]);
    const actions = roleStatements('sweeper').flatMap((statement) => statement.Action);
    expect(new Set(actions)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:BatchWriteItem',
        'events:PutEvents',
      ]),
    );
  });
});

describe('catch-up schedules in the template', () => {
  it('has none on a stage that configures none', () => {
    expect(ofType('AWS::Scheduler::Schedule')).toEqual([]);
  });

  it('has one schedule per configured catch-up, each publishing its TaskRequested with start_date=auto', () => {
    const schedules = Object.fromEntries(ofType('AWS::Scheduler::Schedule', withSchedules().template));
    expect(Object.keys(schedules).sort()).toEqual(['CatchupCatchupSchedule', 'HourlyCatalogCatchupSchedule']);
    const nightly = schedules.CatchupCatchupSchedule.Properties;
    expect(nightly).toMatchObject({
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: getAtt('EventBus'),
        RoleArn: getAtt('CatchupSchedulerRole'),
        EventBridgeParameters: { DetailType: 'TaskRequested', Source: 'vectordb-catchup' },
      },
    });
    expect(JSON.parse(nightly.Target.Input)).toEqual({
      schemaVersion: 1,
      taskId: 'schedule-catchup-<aws.scheduler.scheduled-time>',
      requestedAt: '<aws.scheduler.scheduled-time>',
      source: { type: 'metabase', questionId: 42 },
      namespace: 'crm',
      startDate: 'auto',
      requestedBy: 'schedule:catchup',
      schedule: 'catchup',
    });
    expect(JSON.parse(schedules.HourlyCatalogCatchupSchedule.Properties.Target.Input)).toMatchObject({
      source: { type: 's3_csv', key: 'exports/catalog.csv' },
      dataset: 'catalog',
      startDate: 'auto',
    });
  });

  it('gives the schedules a role of their own that only puts events on the stage’s bus', () => {
    const role = withSchedules().template.Resources.CatchupSchedulerRole.Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    const statements = role.Policies.flatMap((policy: Json) => policy.PolicyDocument.Statement);
    expect(statements).toEqual([{ Sid: 'PutEventsOnOwnBus', Effect: 'Allow', Action: 'events:PutEvents', Resource: getAtt('EventBus') }]);
  });

  it('fails packaging on a schedule expression EventBridge would refuse, naming it', async () => {
    await expect(packagedTemplate({ catchupSchedule: 'rate(1 days)', catchupQuestionId: '42' })).rejects.toThrow(
      /CATCHUP_SCHEDULE: "rate\(1 days\)" is not a schedule expression: write "1 day"/,
    );
  }, 600_000);
});
