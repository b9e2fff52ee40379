/**
 * Scheduled catch-ups on AWS: one EventBridge Scheduler schedule per catch-up schedule of the
 * stage (infra/catchupSchedules.ts), each putting a TaskRequested with start_date=auto on the
 * bus, through a role of their own that may do only that. None when none is configured.
 */
import { firingRequest, loadCatchupSchedules, type CatchupSchedule } from '../catchupSchedules';
import { getAtt, type Resources } from './cloudFormation';
import { physicalName, type Context, type ResolveVariable } from './context';
import { logicalId, SHARED } from './ids';
import { serviceRole } from './iam';

export const SCHEDULER_ROLE = 'CatchupSchedulerRole';
/** EventBridge Scheduler fills this in with each firing's time (managing-schedule-context-attributes). */
const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

/** The stage's schedules, from serverless.yml's `custom.catchup` (params and the deploying shell) and its per-stage file. */
export async function stageSchedules(ctx: Context, resolveVariable: ResolveVariable): Promise<CatchupSchedule[]> {
  const setting = async (name: string) => String((await resolveVariable(`self:custom.catchup.${name}`)) ?? '');
  const [schedule, questionId, namespace, dataset, file, metabaseQuestionId] = await Promise.all([
    setting('schedule'),
    setting('questionId'),
    setting('namespace'),
    setting('dataset'),
    setting('schedulesFile'),
    resolveVariable('self:provider.environment.METABASE_QUESTION_ID'),
  ]);
  const env = {
    CATCHUP_SCHEDULE: schedule,
    CATCHUP_QUESTION_ID: questionId,
    CATCHUP_NAMESPACE: namespace,
    CATCHUP_DATASET: dataset,
    METABASE_QUESTION_ID: String(metabaseQuestionId ?? ''),
  };
  return loadCatchupSchedules({ env, stage: ctx.stage, ...(file ? { file } : {}) });
}

export function scheduleResources(ctx: Context, schedules: CatchupSchedule[], eventSource: string): Resources {
  if (!schedules.length) return {};
  const resources: Resources = {
    [SCHEDULER_ROLE]: serviceRole(
      `${physicalName(ctx, 'catchup-scheduler')}: puts scheduled catch-ups' TaskRequested on the bus, nothing else`,
      'scheduler.amazonaws.com',
      'put-task-requested',
      [{ Sid: 'PutEventsOnOwnBus', Effect: 'Allow', Action: 'events:PutEvents', Resource: getAtt(SHARED.bus, 'Arn') }],
    ),
  };
  for (const schedule of schedules) {
    resources[`${logicalId(schedule.name)}CatchupSchedule`] = {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Description: `Catch-up ${schedule.name}: TaskRequested with start_date=auto, ${schedule.expression} (UTC)`,
        ScheduleExpression: schedule.expression,
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: getAtt(SHARED.bus, 'Arn'),
          RoleArn: getAtt(SCHEDULER_ROLE, 'Arn'),
          EventBridgeParameters: { DetailType: 'TaskRequested', Source: eventSource },
          Input: JSON.stringify(firingRequest(schedule, SCHEDULED_TIME)),
          // A firing that cannot reach the bus within the hour is dropped: the next one catches up from the same watermark.
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        },
      },
    };
  }
  return resources;
}
