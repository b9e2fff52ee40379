/**
 * No secret value in the template or the resolved configuration; functions get the secret's name only.
 */
import {
  allFunctions,
  CANARIES,
  OPTIONAL_SETTINGS,
  packaged,
  pascal,
  resource,
  SECRET_SHAPES,
  SERVICE,
  STAGE,
  usePackagedTemplate,
} from './helpers';

usePackagedTemplate();
const withOptionalSettings = usePackagedTemplate(OPTIONAL_SETTINGS);

describe('secrets', () => {
  it('puts no secret value in the template or the resolved configuration, whatever the stage settings', () => {
    for (const { templateText, stateText } of [packaged(), withOptionalSettings()]) {
      for (const text of [templateText, stateText]) {
        for (const value of Object.values(CANARIES)) expect(text).not.toContain(value);
        for (const shape of SECRET_SHAPES) expect(text).not.toMatch(shape);
      }
    }
  });

  it('gives functions only the secret name, never a secret key as a variable', () => {
    for (const [name] of allFunctions) {
      const variables = resource(`${pascal(name)}LambdaFunction`).Properties.Environment.Variables;
      expect(variables.SECRETS_ID).toBe(`${SERVICE}/${STAGE}`);
      for (const key of Object.keys(CANARIES)) expect(variables).not.toHaveProperty(key);
    }
    // Key names appear only in dynamic references that CloudFormation resolves at deploy time
    // (and as the usage plan's KeyType enum, "API_KEY").
    const mentions = [...packaged().templateText.matchAll(/"([^"]*API_KEY[^"]*)"/g)].map((match) => match[1]);
    expect(mentions.filter((m) => m !== 'API_KEY' && !/^\{\{resolve:secretsmanager:[^}]+\}\}$/.test(m))).toEqual([]);
  });
});
