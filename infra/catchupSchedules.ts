/**
 * Scheduled catch-ups (README › Scheduled catch-ups): which sources run by themselves, and when.
 * One schedule from CATCHUP_SCHEDULE (with CATCHUP_QUESTION_ID, CATCHUP_NAMESPACE and
 * CATCHUP_DATASET), and any number from a per-stage file (`config/schedules.<stage>.yml`). The one
 * loader: the template compiler (infra/template/schedules.ts) and `npm start` (local/schedules.ts)
 * both read schedules through it, so an expression one refuses the other refuses too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import awsCronParser from 'aws-cron-parser';
import { parse } from 'yaml';
import { loadConfig } from '../shared/config';
import { AUTO_START_DATE } from '../shared/domain/catchup';
import { parseProcessRequest } from '../shared/domain/processRequest';
import type { TaskRequest } from '../shared/domain/task';
import { ConfigurationError, InvalidInputError } from '../shared/errors';

const REPO_ROOT = resolve(__dirname, '..');

/** What a schedule publishes, less what each firing fills in (its task id and time). */
export type ScheduledRequest = Omit<TaskRequest, 'taskId' | 'requestedAt'> & { schedule: string };

export interface CatchupSchedule {
  /** Names the schedule in task ids, logs and the deployed resources: 1-64 of [A-Za-z0-9._-]. */
  name: string;
  /** An EventBridge schedule expression: `rate(1 day)`, `cron(0 3 * * ? *)` (UTC). */
  expression: string;
  request: ScheduledRequest;
}

/** The per-stage file's path, relative to the repository root. */
export const schedulesFileOf = (stage: string) => `config/schedules.${stage}.yml`;

/** The schedule CATCHUP_SCHEDULE defines. */
const ENV_SCHEDULE_NAME = 'catchup';
const SCHEDULE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** The `/process` parameters a schedule entry may give; start_date is always auto. */
const ENTRY_PARAMETERS = ['data_source', 'question_id', 's3_key', 'namespace', 'dataset', 'text_column', 'id_column', 'date_column'];

export interface LoadOptions {
  env: Record<string, string | undefined>;
  stage: string;
  /** Default `config/schedules.<stage>.yml`; a missing default file means no file schedules. */
  file?: string;
}

/** Every schedule of the stage, validated; throws a ConfigurationError naming the setting or the file entry at fault. */
export function loadCatchupSchedules({ env, stage, file }: LoadOptions): CatchupSchedule[] {
  const schedules: CatchupSchedule[] = [];
  const expression = env.CATCHUP_SCHEDULE?.trim();
  if (expression) {
    const params = {
      question_id: env.CATCHUP_QUESTION_ID?.trim() || undefined,
      namespace: env.CATCHUP_NAMESPACE?.trim() || undefined,
      dataset: env.CATCHUP_DATASET?.trim() || undefined,
    };
    schedules.push(catchupSchedule(ENV_SCHEDULE_NAME, expression, params, env, 'CATCHUP_SCHEDULE'));
  }
  const path = resolve(REPO_ROOT, file ?? schedulesFileOf(stage));
  if (file !== undefined && !existsSync(path)) throw new ConfigurationError(`the catch-up schedules file ${file} does not exist`);
  if (existsSync(path)) schedules.push(...schedulesOfFile(readFileSync(path, 'utf8'), file ?? schedulesFileOf(stage), env));
  const names = schedules.map((schedule) => schedule.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) throw new ConfigurationError(`two catch-up schedules are named "${repeated}": each needs a name of its own`);
  return schedules;
}

function schedulesOfFile(text: string, origin: string, env: LoadOptions['env']): CatchupSchedule[] {
  const document = parse(text) as { schedules?: unknown } | null;
  if (!document || typeof document !== 'object' || !Array.isArray(document.schedules))
    throw new ConfigurationError(`${origin} must hold a list under "schedules:"`);
  return document.schedules.map((entry: unknown, index) => {
    const where = `${origin}: schedules[${index}]`;
    if (!entry || typeof entry !== 'object') throw new ConfigurationError(`${where} must be a mapping`);
    const { name, schedule, ...params } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || !SCHEDULE_NAME.test(name))
      throw new ConfigurationError(`${where}: name must be 1-64 letters, digits or . _ -; got ${JSON.stringify(name)}`);
    if (typeof schedule !== 'string') throw new ConfigurationError(`${where} (${name}): schedule must be a schedule expression`);
    const unknown = Object.keys(params).filter((key) => !ENTRY_PARAMETERS.includes(key));
    if (unknown.length)
      throw new ConfigurationError(
        `${where} (${name}): unknown field ${unknown.join(', ')}; accepted: name, schedule, ${ENTRY_PARAMETERS.join(', ')}`,
      );
    return catchupSchedule(name, schedule, params, env, `${where} (${name})`);
  });
}

function catchupSchedule(
  name: string,
  expression: string,
  params: Record<string, unknown>,
  env: LoadOptions['env'],
  where: string,
): CatchupSchedule {
  const problem = scheduleExpressionProblem(expression);
  if (problem) throw new ConfigurationError(`${where}: "${expression}" is not a schedule expression: ${problem}`);
  let request: TaskRequest;
  try {
    request = parseProcessRequest({ ...params, start_date: AUTO_START_DATE }, loadConfig(env), new Date(0));
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new ConfigurationError(`${where}: ${error.message}`);
  }
  // Each firing gives its own task id and time (firingRequest).
  const scheduled: Partial<TaskRequest> = { ...request, requestedBy: `schedule:${name}`, schedule: name };
  delete scheduled.taskId;
  delete scheduled.requestedAt;
  return { name, expression, request: scheduled as ScheduledRequest };
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.*)\)$/;
const CRON_FIELD = [/^[\d,*/-]+$/, /^[\d,*/-]+$/, /^[\d,*/?LW-]+$/, /^[\dA-Z,*/-]+$/i, /^[\dA-Z,*/?L#-]+$/i, /^[\d,*/-]+$/];

/** Why an expression is not one EventBridge accepts for a recurring schedule; undefined when it is. */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    if (value < 1) return 'a rate must be at least 1';
    const plural = rate[2].endsWith('s');
    if ((value === 1) === plural)
      return `write "${value} ${plural ? rate[2].slice(0, -1) : `${rate[2]}s`}" (1 takes the singular, more the plural)`;
    return undefined;
  }
  const cron = CRON.exec(expression);
  if (!cron) return 'use rate(<n> minute[s]|hour[s]|day[s]) or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)';
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6)
    return `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year); this has ${fields.length}`;
  const bad = fields.findIndex((field, index) => !CRON_FIELD[index].test(field));
  if (bad >= 0) return `field ${bad + 1} ("${fields[bad]}") has characters that field does not take`;
  if ((fields[2] === '?') === (fields[4] === '?')) return 'exactly one of day-of-month (field 3) and day-of-week (field 5) must be ?';
  try {
    if (!awsCronParser.next(awsCronParser.parse(fields.join(' ')), new Date())) return 'it never fires again';
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** When a valid expression fires next after `after`; a rate counts from `after`, as EventBridge counts from the schedule's creation. */
export function nextFiring(expression: string, after: Date): Date | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const unitMs = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[rate[2].replace(/s$/, '') as 'minute' | 'hour' | 'day'];
    return new Date(after.getTime() + Number(rate[1]) * unitMs);
  }
  const cron = CRON.exec(expression);
  if (!cron) return undefined;
  // The parser answers `after` itself when it matches: a firing is always later.
  const next = awsCronParser.next(awsCronParser.parse(cron[1].trim()), new Date(after.getTime() + 1000));
  return next ?? undefined;
}

/** The TaskRequested one firing publishes: its task id names the schedule and the time, so a retried firing starts nothing new. */
export function firingRequest(schedule: CatchupSchedule, scheduledTime: string): TaskRequest {
  return { ...schedule.request, taskId: `schedule-${schedule.name}-${scheduledTime}`, requestedAt: scheduledTime };
}
