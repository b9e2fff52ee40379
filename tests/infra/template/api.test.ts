/**
 * The REST API: exactly the wired routes, each behind the API key from the stage's secret.
 */
import {
  httpFunctions,
  type Json,
  ofType,
  OPTIONAL_SETTINGS,
  packaged,
  pascal,
  resource,
  SERVICE,
  STAGE,
  type Template,
  usePackagedTemplate,
} from './helpers';

usePackagedTemplate();
const withOptionalSettings = usePackagedTemplate(OPTIONAL_SETTINGS);

describe('REST API', () => {
  const pathOf = (resourceId: Json): string => {
    if (resourceId['Fn::GetAtt']) return '';
    const r = resource(resourceId.Ref).Properties;
    return `${pathOf(r.ParentId)}/${r.PathPart}`;
  };

  it('exposes exactly the wired routes, each to its function, each requiring the API key unless wired without it', () => {
    const methods = ofType('AWS::ApiGateway::Method').map(([, r]) => r.Properties);
    // The root resource (the dashboard's page) is the API's own, by GetAtt.
    const actual = methods.map(
      (m) =>
        `${m.HttpMethod} ${pathOf(m.ResourceId) || '/'} -> ${JSON.stringify(m.Integration.Uri).match(/"(\w+)LambdaFunction"/)![1]}` +
        `${m.ApiKeyRequired === true ? '' : ' (no key)'}`,
    );
    const expected = httpFunctions.flatMap(([name, h]) =>
      h.routes.map((route) => `${route} -> ${pascal(name)}${h.apiKey === false ? ' (no key)' : ''}`),
    );
    expect(actual.sort()).toEqual(expected.sort());
  });

  it('takes the API key value from the secret by dynamic reference and puts it in the usage plan', () => {
    const keys = ofType('AWS::ApiGateway::ApiKey');
    expect(keys).toHaveLength(1);
    expect(keys[0][1].Properties.Value).toBe(`{{resolve:secretsmanager:${SERVICE}/${STAGE}:SecretString:API_KEY}}`);
    const [, planKey] = ofType('AWS::ApiGateway::UsagePlanKey')[0];
    expect(planKey.Properties).toMatchObject({ KeyId: { Ref: keys[0][0] }, KeyType: 'API_KEY' });
  });

  /** The one usage plan's limits on the stage: numbers, as API Gateway takes them, whatever type a --param has. */
  const limitsOf = (template: Template) => {
    const plans = ofType('AWS::ApiGateway::UsagePlan', template);
    expect(plans).toHaveLength(1);
    const { Throttle, Quota, ApiStages } = plans[0][1].Properties;
    expect(ApiStages).toEqual([expect.objectContaining({ Stage: STAGE })]);
    return { Throttle, Quota };
  };

  it('throttles the stage at 20 requests/s with bursts of 40 and caps it at 100,000 requests a day by default', () => {
    expect(limitsOf(packaged().template)).toEqual({
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      Quota: { Limit: 100_000, Period: 'DAY' },
    });
  });

  it('takes the throttle and the quota from the stage parameters', () => {
    expect(limitsOf(withOptionalSettings().template)).toEqual({
      Throttle: { RateLimit: 7, BurstLimit: 9 },
      Quota: { Limit: 5000, Period: 'WEEK' },
    });
  });
});
