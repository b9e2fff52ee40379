import { COMMANDS, commandHelp, parseCommandLine, pollIntervalMs, programHelp, UsageError } from '../../../cli/commandLine';
import { EXIT_CODE_TABLE } from '../../../cli/exitCodes';

describe('parseCommandLine', () => {
  it('finds the command among options given before or after it, values included', () => {
    expect(parseCommandLine(['--api-url', 'https://x.example/prod', 'status', 't-1', '--watch'])).toEqual({
      kind: 'run',
      command: 'status',
      positionals: ['t-1'],
      options: { 'api-url': 'https://x.example/prod', watch: true },
    });
    expect(parseCommandLine(['search', 'red', 'shoes', '-k', '3'])).toMatchObject({
      positionals: ['red', 'shoes'],
      options: { 'top-k': '3' },
    });
  });

  it('answers help for the program and for each command', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    for (const command of Object.keys(COMMANDS)) expect(parseCommandLine([command, '-h'])).toEqual({ kind: 'help', command });
  });

  it.each([
    [[], 'no command given', undefined],
    [['ingets', 'x.csv'], 'unknown command "ingets"', undefined],
    [['status'], 'missing <task_id>', 'status'],
    [['status', 'a', 'b'], 'unexpected argument "b"', 'status'],
    [['tasks', '--top-k', '3'], "Unknown option '--top-k'", 'tasks'],
    [['status', 't', '--interval'], "Option '--interval <value>' argument missing", 'status'],
  ])('%j is a usage error: %s', (argv, message, command) => {
    const error = (() => {
      try {
        parseCommandLine(argv as string[]);
      } catch (thrown) {
        return thrown as UsageError;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.message).toBe(message);
    expect(error?.command).toBe(command);
  });

  it('reads --interval as milliseconds, within bounds', () => {
    expect(pollIntervalMs({})).toBe(1000);
    expect(pollIntervalMs({ interval: '0.2' })).toBe(200);
    expect(() => pollIntervalMs({ interval: 'soon' })).toThrow(UsageError);
    expect(() => pollIntervalMs({ interval: '0' })).toThrow(UsageError);
  });
});

describe('help', () => {
  it('lists every command and every exit code', () => {
    const help = programHelp();
    for (const command of Object.keys(COMMANDS)) expect(help).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    for (const [code, meaning] of EXIT_CODE_TABLE) expect(help).toContain(`${String(code).padEnd(3)}  ${meaning}`);
  });

  it("shows each command's options, the global ones and the exit codes", () => {
    const help = commandHelp('ingest');
    expect(help).toMatch(/^Usage: vectordb-catchup ingest <file\.csv \| s3:\/\/bucket\/key> \[options\]/);
    for (const option of ['--watch', '--key', '--bucket', '--s3-endpoint', '--namespace', '--api-url', '--api-key', '--help'])
      expect(help).toContain(option);
    expect(help).toContain('Exit codes:');
  });
});
