/**
 * The logger's two formats, as written to stdout and stderr: JSON lines by default, and with
 * LOG_FORMAT=pretty one line for people, with the same keys of the work in hand and the same
 * redaction.
 */
import { createLogger, withLogKeys } from '../../../shared/logger';
import { ConfigurationError } from '../../../shared/errors';

/** What the logger writes to each stream while `work` runs. */
async function written(work: () => Promise<void> | void): Promise<{ stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => Boolean(out.push(String(chunk))));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => Boolean(err.push(String(chunk))));
  try {
    await work();
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return { stdout: out.join(''), stderr: err.join('') };
}

describe('createLogger', () => {
  const saved = process.env.POWERTOOLS_LOG_LEVEL;
  beforeAll(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = saved;
  });

  it('writes one JSON line per entry by default, with the keys of the work in hand', async () => {
    const logger = createLogger(() => [], 'svc', 'json');
    const { stdout, stderr } = await written(() => withLogKeys({ task_id: 't-1' }, async () => logger.info('started', { rows: 3 })));
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toMatchObject({ level: 'INFO', message: 'started', service: 'svc', task_id: 't-1', rows: 3 });
  });

  it('with LOG_FORMAT=pretty writes one line for people: info to stdout, warnings and errors to stderr, secrets redacted', async () => {
    const logger = createLogger(() => ['sk-secret-value-0123456789'], 'svc', 'pretty');
    const { stdout, stderr } = await written(() =>
      withLogKeys({ task_id: 't-1', chunk_index: 2 }, async () => {
        logger.info('chunk embedded', { records: 10 });
        logger.warn('OpenAI embeddings failed; retrying', { attempt: 1, reason: 'key sk-secret-value-0123456789 throttled' });
        logger.error('message failed on its last attempt', { error: new Error('boom') });
      }),
    );

    expect(stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}chunk embedded {2}task_id=t-1 chunk_index=2 records=10\n$/);
    const [warn, error, stackTop] = stderr.split('\n');
    expect(warn).toMatch(/ WARN {2}OpenAI embeddings failed; retrying {2}task_id=t-1 chunk_index=2 attempt=1 reason="key \S+ throttled"$/);
    expect(stderr).not.toContain('sk-secret-value-0123456789');
    expect(error).toMatch(/ ERROR message failed on its last attempt {2}task_id=t-1 chunk_index=2 error="Error: boom"$/);
    expect(stackTop).toBe('    Error: boom');
    expect(stderr).not.toContain('{');
  });

  it('refuses a LOG_FORMAT it does not know, naming it', () => {
    expect(() => createLogger(() => [], 'svc', 'text')).toThrow(new ConfigurationError('LOG_FORMAT must be json or pretty, not "text"'));
  });
});
