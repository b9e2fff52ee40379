import { UsageError } from '../../../cli/commandLine';
import { apiSettings, LOCAL_RUNTIME, s3Settings } from '../../../cli/settings';
import { localEnvironment } from '../../../local/runtime';

describe('CLI settings', () => {
  it("defaults to the local runtime with npm start's own defaults", () => {
    expect(apiSettings({}, {})).toEqual({ url: LOCAL_RUNTIME.apiUrl, key: LOCAL_RUNTIME.apiKey, local: true });
    const local = localEnvironment({});
    expect([LOCAL_RUNTIME.apiKey, LOCAL_RUNTIME.bucket]).toEqual([local.API_KEY, local.S3_BUCKET_NAME]);
  });

  it('takes the API from options before the environment, and API_KEY as the last resort for the key', () => {
    const env = { VECTORDB_CATCHUP_API_URL: 'https://env.example/dev/', API_KEY: 'from-api-key' };
    expect(apiSettings({}, env)).toEqual({ url: 'https://env.example/dev', key: 'from-api-key', local: false });
    expect(apiSettings({ 'api-url': 'https://opt.example/prod', 'api-key': 'k' }, { ...env, VECTORDB_CATCHUP_API_KEY: 'v' })).toEqual({
      url: 'https://opt.example/prod',
      key: 'k',
      local: false,
    });
    expect(apiSettings({}, { ...env, VECTORDB_CATCHUP_API_KEY: 'v' }).key).toBe('v');
  });

  it('needs a key for a named API, and a URL that is one', () => {
    expect(() => apiSettings({ 'api-url': 'https://x.example/prod' }, {})).toThrow(/needs its key/);
    expect(() => apiSettings({ 'api-url': 'x.example', 'api-key': 'k' }, {})).toThrow(UsageError);
  });

  it('takes a local runtime on other ports (npm start with PORT set) with the local key, as its banner prints it', () => {
    expect(apiSettings({ 'api-url': 'http://127.0.0.1:3100' }, {})).toEqual({
      url: 'http://127.0.0.1:3100',
      key: 'local-dev-key',
      local: true,
    });
    expect(apiSettings({ 'api-url': 'http://localhost:3100/' }, { API_KEY: 'mine' })).toEqual({
      url: 'http://localhost:3100',
      key: 'mine',
      local: true,
    });
    expect(() => apiSettings({ 'api-url': 'http://127.0.0.1.example.com' }, {})).toThrow(/needs its key/);
  });

  it("uploads to the local s3rver by default, to AWS with a stage's bucket otherwise", () => {
    const local = apiSettings({}, {});
    const stage = apiSettings({ 'api-url': 'https://x.example/prod', 'api-key': 'k' }, {});
    expect(s3Settings({}, {}, local)).toEqual({ endpoint: LOCAL_RUNTIME.s3Endpoint, bucket: LOCAL_RUNTIME.bucket });
    expect(s3Settings({}, { S3_BUCKET_NAME: 'stage-bucket' }, stage)).toEqual({ bucket: 'stage-bucket' });
    expect(s3Settings({ 's3-endpoint': 'http://127.0.0.1:9' }, {}, stage)).toEqual({
      endpoint: 'http://127.0.0.1:9',
      bucket: LOCAL_RUNTIME.bucket,
    });
    expect(() => s3Settings({}, {}, stage)).toThrow(/--bucket or S3_BUCKET_NAME/);
  });
});
