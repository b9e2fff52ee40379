/**
 * The REST API: exactly the wired routes, each behind the API key from the stage's secret.
 */
import { httpFunctions, type Json, ofType, pascal, resource, SERVICE, STAGE, usePackagedTemplate } from './helpers';

usePackagedTemplate();

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

  it('takes the API key value from the secret by dynamic reference and throttles it with a usage plan', () => {
    const keys = ofType('AWS::ApiGateway::ApiKey');
    expect(keys).toHaveLength(1);
    expect(keys[0][1].Properties.Value).toBe(`{{resolve:secretsmanager:${SERVICE}/${STAGE}:SecretString:API_KEY}}`);
    const [, plan] = ofType('AWS::ApiGateway::UsagePlan')[0];
    expect(plan.Properties.Throttle).toEqual({ RateLimit: expect.any(Number), BurstLimit: expect.any(Number) });
    const [, planKey] = ofType('AWS::ApiGateway::UsagePlanKey')[0];
    expect(planKey.Properties).toMatchObject({ KeyId: { Ref: keys[0][0] }, KeyType: 'API_KEY' });
  });
});
