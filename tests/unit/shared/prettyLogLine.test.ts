import { prettyLogLine, type Style } from '../../../shared/prettyLogLine';

const LINE = {
  level: 'WARN',
  message: 'Pinecone upsert failed; retrying',
  timestamp: '2026-12-02T01:02:03.456Z',
  service: 'vectordb-catchup',
  sampling_rate: 0,
  xray_trace_id: '1-abc',
  task_id: 't-1',
  chunk_index: 3,
  attempt: 1,
  reason: 'HTTP 429: Too many requests',
};

describe('prettyLogLine', () => {
  it('writes time, level, message and the line’s own keys in order, leaving out what every line repeats', () => {
    expect(prettyLogLine(LINE)).toBe(
      '01:02:03.456 WARN  Pinecone upsert failed; retrying  task_id=t-1 chunk_index=3 attempt=1 reason="HTTP 429: Too many requests"',
    );
  });

  it('quotes what would not read as one word, and writes objects, arrays, booleans and nulls as JSON', () => {
    const line = prettyLogLine({ level: 'INFO', message: 'm', a: '', b: 'x=y', c: 'say "hi"', d: { n: 1 }, e: ['x'], f: true, g: null });
    expect(line).toBe('INFO  m  a="" b="x=y" c="say \\"hi\\"" d={"n":1} e=["x"] f=true g=null');
  });

  it('writes an error as name and message on the line, its stack indented beneath', () => {
    const error = { name: 'ProviderError', location: 'x.ts:1', message: 'boom', stack: 'ProviderError: boom\n    at f (x.ts:1:1)' };
    expect(prettyLogLine({ level: 'ERROR', message: 'message failed on its last attempt', task_id: 't', error }).split('\n')).toEqual([
      'ERROR message failed on its last attempt  task_id=t error="ProviderError: boom"',
      '    ProviderError: boom',
      '        at f (x.ts:1:1)',
    ]);
  });

  it('styles the level by severity and the message in bold, through the style it is given', () => {
    const tag: Style = (format, text) => `<${format}>${text}</${format}>`;
    expect(prettyLogLine({ level: 'ERROR', message: 'e' }, tag)).toBe('<red>ERROR</red> <bold>e</bold>');
    expect(prettyLogLine({ level: 'WARN', message: 'w' }, tag)).toBe('<yellow>WARN </yellow> <bold>w</bold>');
    expect(prettyLogLine({ level: 'DEBUG', message: 'd' }, tag)).toBe('<gray>DEBUG</gray> <bold>d</bold>');
    expect(prettyLogLine({ level: 'INFO', message: 'i' }, tag)).toBe('INFO  <bold>i</bold>');
  });
});
