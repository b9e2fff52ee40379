/**
 * The "Try:" lines of the `npm start` banner: the sample CSV ingested, followed and searched with
 * the CLI, and the same with curl. Each works as printed, from the repository folder (a test
 * runs the CLI lines against a local runtime).
 */
import path from 'node:path';
import { LOCAL_RUNTIME } from '../cli/settings';

export const SAMPLE_CSV = path.resolve(__dirname, '..', 'samples', 'products.csv');
/** Words of one of the sample's records (p-002), which the offline embedder ranks first. */
export const SAMPLE_QUERY = 'waterproof boots for rocky mountain trails';

export interface TryExamplesOptions {
  apiUrl: string;
  s3Endpoint: string;
  apiKey: string;
  inboxDir: string;
  /** Where the commands are typed: paths are shown relative to it. */
  cwd: string;
}

/** `npx vectordb-catchup` command lines, each an argument list after the program name. */
export function cliExamples(options: Pick<TryExamplesOptions, 'apiUrl' | 's3Endpoint' | 'cwd'>): string[][] {
  // The CLI's defaults are npm start's; other ports must be named.
  const api = options.apiUrl === LOCAL_RUNTIME.apiUrl ? [] : ['--api-url', options.apiUrl];
  const s3 = options.s3Endpoint === LOCAL_RUNTIME.s3Endpoint ? [] : ['--s3-endpoint', options.s3Endpoint];
  return [
    ['ingest', path.relative(options.cwd, SAMPLE_CSV), '--watch', ...api, ...s3],
    ['search', SAMPLE_QUERY, '--top-k', '3', ...api],
    ['tasks', ...api],
  ];
}

const quoted = (arg: string) => (/^[\w./:=-]+$/.test(arg) ? arg : `"${arg}"`);

export function tryExamples(options: TryExamplesOptions): string {
  const { apiUrl, apiKey } = options;
  const key = apiKey === LOCAL_RUNTIME.apiKey ? apiKey : '$API_KEY';
  const header = `-H 'x-api-key: ${key}'`;
  const cli = cliExamples(options).map((args) => `  npx vectordb-catchup ${args.map(quoted).join(' ')}`);
  return `Try, from the repository folder${key === apiKey ? '' : ' (with API_KEY exported as for npm start)'}:
${cli.join('\n')}
  npx vectordb-catchup status <task_id> --watch${options.apiUrl === LOCAL_RUNTIME.apiUrl ? '' : ` --api-url ${options.apiUrl}`}     (npm run -s cli -- … does the same; --help for more)
or with curl:
  cp ${path.relative(options.cwd, SAMPLE_CSV)} ${path.relative(options.cwd, options.inboxDir)}/
  curl ${header} '${apiUrl}/tasks?limit=1'
  curl ${header} '${apiUrl}/tasks/<task_id>'
  curl -G ${header} '${apiUrl}/search' --data-urlencode 'q=${SAMPLE_QUERY}' --data-urlencode 'top_k=3'
`;
}
