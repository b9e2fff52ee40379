/**
 * What the compiler takes from serverless.yml rather than from the wiring, so that each is
 * defined in one place: the service, the stage, the bucket name and the secret's name.
 */

/** Serverless v3 passes this to a `${file(...)}` function: it resolves any variable of serverless.yml. */
export type ResolveVariable = (variable: string) => Promise<unknown>;

export interface Context {
  service: string;
  stage: string;
  /** A name, or the CloudFormation expression serverless.yml builds one with. */
  bucketName: unknown;
  secretsId: string;
}

export async function readContext(resolveVariable: ResolveVariable): Promise<Context> {
  const [service, stage, bucketName, secretsId] = await Promise.all([
    resolveVariable('self:service'),
    resolveVariable('sls:stage'),
    resolveVariable('self:custom.bucketName'),
    resolveVariable('self:custom.secretsId'),
  ]);
  return { service: String(service), stage: String(stage), bucketName, secretsId: String(secretsId) };
}

/** `vectordb-catchup-dev-planner`: the deployed name of a function, and of its queue, rule, alarms and machine. */
export const physicalName = (ctx: Context, name: string): string => `${ctx.service}-${ctx.stage}-${name}`;
