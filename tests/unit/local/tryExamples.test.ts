import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseCommandLine } from '../../../cli/commandLine';
import { cliExamples, SAMPLE_CSV, tryExamples } from '../../../local/tryExamples';

const ROOT = path.resolve(__dirname, '../../..');
const defaults = {
  apiUrl: 'http://127.0.0.1:3000',
  s3Endpoint: 'http://127.0.0.1:4569',
  apiKey: 'local-dev-key',
  inboxDir: path.join(ROOT, '.local/inbox'),
  cwd: ROOT,
};

describe("npm start's Try lines", () => {
  const banner = tryExamples(defaults);

  it('name the sample CSV, which is in the repository', () => {
    expect(existsSync(SAMPLE_CSV)).toBe(true);
    expect(banner).toContain('npx vectordb-catchup ingest samples/products.csv --watch\n');
    expect(banner).toContain('cp samples/products.csv .local/inbox/\n');
    for (const file of banner.match(/\bsamples\/[\w.-]+/g) ?? []) expect(existsSync(path.join(ROOT, file))).toBe(true);
  });

  it('are CLI commands it parses, with no option beyond its defaults on the default ports', () => {
    for (const args of cliExamples(defaults)) {
      expect(parseCommandLine(args)).toMatchObject({ kind: 'run' });
      expect(args).not.toContain('--api-url');
    }
    expect(banner).toContain('npx vectordb-catchup search "waterproof boots for rocky mountain trails" --top-k 3\n');
  });

  it('name the ports npm start was given when they are not the defaults', () => {
    const [ingest] = cliExamples({ ...defaults, apiUrl: 'http://127.0.0.1:3100', s3Endpoint: 'http://127.0.0.1:4600' });
    expect(ingest).toEqual([
      'ingest',
      'samples/products.csv',
      '--watch',
      '--api-url',
      'http://127.0.0.1:3100',
      '--s3-endpoint',
      'http://127.0.0.1:4600',
    ]);
    expect(tryExamples({ ...defaults, apiKey: 'a-key-of-my-own' })).toContain(
      "curl -H 'x-api-key: $API_KEY' 'http://127.0.0.1:3000/tasks?limit=1'",
    );
  });
});
