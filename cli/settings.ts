/**
 * Where the CLI talks to: the local runtime by default (the defaults `npm start` uses, README ›
 * Local mode), or a deployed stage named by --api-url or the environment. Pure: no I/O.
 */
import { stringOption, UsageError, type Options } from './commandLine';

export const LOCAL_RUNTIME = {
  apiUrl: 'http://127.0.0.1:3000',
  apiKey: 'local-dev-key',
  s3Endpoint: 'http://127.0.0.1:4569',
  bucket: 'vectordb-catchup-local',
  region: 'us-east-1',
} as const;

export interface ApiSettings {
  url: string;
  key: string;
  /** True when no API was named: the local runtime's defaults apply, and an unreachable API means `npm start` is not running. */
  local: boolean;
}

export interface S3Settings {
  /** An s3rver (taking its S3RVER credentials); absent for AWS itself. */
  endpoint?: string;
  bucket: string;
}

type Env = Record<string, string | undefined>;

const given = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

export function apiSettings(options: Options, env: Env): ApiSettings {
  const url = given(stringOption(options, 'api-url')) ?? given(env.VECTORDB_CATCHUP_API_URL);
  const key = given(stringOption(options, 'api-key')) ?? given(env.VECTORDB_CATCHUP_API_KEY) ?? given(env.API_KEY);
  if (url === undefined) return { url: LOCAL_RUNTIME.apiUrl, key: key ?? LOCAL_RUNTIME.apiKey, local: true };
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`the API URL must start with http:// or https://, got "${url}"`);
  // A local runtime on other ports (npm start with PORT set) keeps the local key.
  const loopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);
  if (loopback) return { url: url.replace(/\/+$/, ''), key: key ?? LOCAL_RUNTIME.apiKey, local: true };
  if (key === undefined) throw new UsageError(`${url} needs its key: --api-key, VECTORDB_CATCHUP_API_KEY or API_KEY`);
  return { url: url.replace(/\/+$/, ''), key, local: false };
}

export function s3Settings(options: Options, env: Env, api: ApiSettings): S3Settings {
  const endpoint =
    given(stringOption(options, 's3-endpoint')) ??
    given(env.VECTORDB_CATCHUP_S3_ENDPOINT) ??
    (api.local ? LOCAL_RUNTIME.s3Endpoint : undefined);
  const bucket = given(stringOption(options, 'bucket')) ?? given(env.S3_BUCKET_NAME) ?? (endpoint ? LOCAL_RUNTIME.bucket : undefined);
  if (bucket === undefined)
    throw new UsageError(
      'uploading to a deployed stage needs its bucket: --bucket or S3_BUCKET_NAME (or ingest an s3:// object already in it)',
      'ingest',
    );
  return { ...(endpoint ? { endpoint } : {}), bucket };
}
