/** The command line: each command's arguments and options, their help, and parsing. Pure: no I/O. */
import { parseArgs } from 'node:util';
import { EXIT_CODE_TABLE } from './exitCodes';

export const PROGRAM = 'vectordb-catchup';

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** How the value is shown in the help, e.g. `<seconds>`. */
  value?: string;
  help: string;
}

interface CommandSpec {
  arguments: string;
  /** How many positional arguments the command takes. */
  positionals: { min: number; max: number };
  summary: string;
  description: string;
  options: Record<string, OptionSpec>;
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
  }
}

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  'api-url': {
    type: 'string',
    value: '<url>',
    help: "a deployed stage's API (https://…/<stage>); default http://127.0.0.1:3000, the local runtime",
  },
  'api-key': { type: 'string', value: '<key>', help: 'its x-api-key; default local-dev-key for the local runtime' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

const FOLLOW_OPTIONS: Record<string, OptionSpec> = {
  watch: {
    type: 'boolean',
    short: 'w',
    help: 'follow the task to its end: a live progress bar on a terminal, a line per change otherwise; exits with its outcome',
  },
  interval: { type: 'string', value: '<seconds>', help: 'seconds between polls while following (default 1)' },
};

const JSON_OPTION: Record<string, OptionSpec> = { json: { type: 'boolean', help: "print the API's JSON answer instead" } };

export const COMMANDS = {
  ingest: {
    arguments: '<file.csv | s3://bucket/key>',
    positionals: { min: 1, max: 1 },
    summary: 'start a task from a CSV file on this machine or an object in the bucket',
    description: `A local file is uploaded under the ingest prefix (incoming/, from infra/wiring.yml), where the bucket's
upload trigger starts its task, as for any upload; the task id follows from the object's ETag, so
the same content uploaded again under the same key names the task that already ran. With any of
--namespace, --dataset, --start-date, --dry-run or --force, the file goes under uploads/ instead
and POST /process starts the task with them. An s3://bucket/key object of the deployment's
bucket is read where it is, through POST /process, with those options too.

Locally the file goes to the runtime's s3rver (http://127.0.0.1:4569, bucket
vectordb-catchup-local). For a deployed stage, the upload uses your AWS credentials (the AWS SDK's
usual chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, …) and AWS_REGION, into --bucket or S3_BUCKET_NAME.
Prints the task id.`,
    options: {
      ...FOLLOW_OPTIONS,
      key: { type: 'string', value: '<key>', help: "the object key to upload to (default: the ingest prefix and the file's name)" },
      bucket: { type: 'string', value: '<name>', help: 'the bucket to upload to (default S3_BUCKET_NAME; locally vectordb-catchup-local)' },
      's3-endpoint': {
        type: 'string',
        value: '<url>',
        help: 'an s3rver to upload to, with its S3RVER credentials (default for the local runtime: http://127.0.0.1:4569)',
      },
      namespace: { type: 'string', value: '<name>', help: 'the vector namespace (default PINECONE_NAMESPACE)' },
      dataset: { type: 'string', value: '<name>', help: "the dataset the records belong to (default: the object's key)" },
      'start-date': { type: 'string', value: '<YYYY-MM-DD>', help: 'skip rows whose date column is earlier' },
      'dry-run': { type: 'boolean', help: 'plan and count only: no embedding, no write' },
      force: { type: 'boolean', help: 're-embed records even when unchanged' },
    },
  },
  status: {
    arguments: '<task_id>',
    positionals: { min: 1, max: 1 },
    summary: "show a task's state, counts, rate, ETA and errors",
    description: `Reads GET /tasks/{task_id}. Without --watch, the exit code says whether the task ended and how
(6 while it is still PENDING or RUNNING).`,
    options: { ...FOLLOW_OPTIONS, ...JSON_OPTION },
  },
  tasks: {
    arguments: '',
    positionals: { min: 0, max: 0 },
    summary: 'list tasks, newest first',
    description: 'Reads GET /tasks: one page, newest first; the next page is --cursor with the cursor printed below the table.',
    options: {
      status: {
        type: 'string',
        value: '<status>',
        help: 'only tasks in this state: PENDING, RUNNING, COMPLETED, PARTIAL, FAILED, CANCELLED',
      },
      source: { type: 'string', value: '<source>', help: 'only tasks reading this kind of source: s3_csv, metabase, inline' },
      dataset: { type: 'string', value: '<name>', help: 'only tasks of this dataset' },
      limit: { type: 'string', value: '<n>', help: 'tasks per page, 1–100 (default 20)' },
      cursor: { type: 'string', value: '<cursor>', help: 'the page after the one that printed this cursor' },
      ...JSON_OPTION,
    },
  },
  search: {
    arguments: '<query…>',
    positionals: { min: 1, max: Number.POSITIVE_INFINITY },
    summary: 'find the records nearest to a query, to check what the index holds',
    description: `Reads GET /search: the query is embedded as records are and matched in the namespace. The words
of the query may be given quoted or not.`,
    options: {
      'top-k': { type: 'string', short: 'k', value: '<n>', help: 'how many nearest vectors, 1–100 (default 10)' },
      namespace: { type: 'string', value: '<name>', help: 'the namespace to search (default PINECONE_NAMESPACE)' },
      filter: { type: 'string', value: '<json>', help: 'a Pinecone metadata filter, e.g. \'{"category": {"$in": ["boots"]}}\'' },
      ...JSON_OPTION,
    },
  },
  retry: {
    arguments: '<task_id>',
    positionals: { min: 1, max: 1 },
    summary: 'run the failed parts of a PARTIAL or FAILED task again',
    description: 'POST /tasks/{task_id}/retry. A task RUNNING, CANCELLED or COMPLETED is refused (exit 7).',
    options: { ...FOLLOW_OPTIONS },
  },
  cancel: {
    arguments: '<task_id>',
    positionals: { min: 1, max: 1 },
    summary: 'stop a task: chunks not yet embedded are skipped',
    description: 'POST /cancel. A task that had already ended is left as it was (exit 7).',
    options: {},
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
export type Options = Record<string, string | boolean | undefined>;

export type CommandLine =
  { kind: 'help'; command?: CommandName } | { kind: 'run'; command: CommandName; positionals: string[]; options: Options };

const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

const parseArgsOptions = (specs: Record<string, OptionSpec>) =>
  Object.fromEntries(Object.entries(specs).map(([name, { type, short }]) => [name, short ? { type, short } : { type }]));

/** Every option any command knows: enough to tell option values from the command name. */
const ALL_OPTIONS = parseArgsOptions(Object.assign({}, GLOBAL_OPTIONS, ...Object.values(COMMANDS).map((spec) => spec.options)));

/** The command is the first argument that is not an option or an option's value; options may come before or after it. */
export function parseCommandLine(argv: string[]): CommandLine {
  const { tokens } = parseArgs({ args: argv, options: ALL_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((token) => token.kind === 'positional');
  if (!first) {
    if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) return { kind: 'help' };
    throw new UsageError('no command given');
  }
  if (!isCommand(first.value)) throw new UsageError(`unknown command "${first.value}"`);
  const command = first.value;
  const spec: CommandSpec = COMMANDS[command];
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv.slice(0, first.index), ...argv.slice(first.index + 1)],
      options: parseArgsOptions({ ...spec.options, ...GLOBAL_OPTIONS }),
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    // Node's messages go on with advice about '--' that does not apply here.
    throw new UsageError((error as Error).message.split('. ')[0], command);
  }
  if (parsed.values.help) return { kind: 'help', command };
  const { positionals } = parsed;
  if (positionals.length < spec.positionals.min) throw new UsageError(`missing ${spec.arguments}`, command);
  if (positionals.length > spec.positionals.max)
    throw new UsageError(`unexpected argument "${positionals[spec.positionals.max]}"`, command);
  return { kind: 'run', command, positionals, options: parsed.values };
}

export function stringOption(options: Options, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

/** `--interval` in milliseconds. */
export function pollIntervalMs(options: Options): number {
  const raw = stringOption(options, 'interval');
  if (raw === undefined) return 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0.05 || seconds > 3600)
    throw new UsageError(`--interval must be a number of seconds from 0.05 to 3600, got "${raw}"`);
  return Math.round(seconds * 1000);
}

const ENVIRONMENT: [string, string][] = [
  ['VECTORDB_CATCHUP_API_URL', 'the API, as --api-url'],
  ['VECTORDB_CATCHUP_API_KEY', 'its key, as --api-key; else API_KEY'],
  ['VECTORDB_CATCHUP_S3_ENDPOINT', 'ingest: the s3rver to upload to, as --s3-endpoint'],
  ['S3_BUCKET_NAME', 'ingest: the bucket to upload to, as --bucket'],
  ['AWS_PROFILE, AWS_REGION, …', "ingest of a local file to a deployed stage: the AWS SDK's credentials and region"],
];

function columns(rows: [string, string][], indent = '  '): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`).join('\n');
}

function optionRows(specs: Record<string, OptionSpec>): [string, string][] {
  return Object.entries(specs).map(([name, spec]) => [
    `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`,
    spec.help,
  ]);
}

const exitCodes = () => columns(EXIT_CODE_TABLE.map(([code, meaning]) => [String(code), meaning]));

export function programHelp(): string {
  const commands = Object.entries(COMMANDS).map(([name, spec]): [string, string] => [`${name} ${spec.arguments}`.trim(), spec.summary]);
  return `${PROGRAM}: start, follow and check the tasks of a vectordb-catchup deployment, or of the local runtime (npm start)

Usage: ${PROGRAM} <command> [options]
       in the repository: npx ${PROGRAM} <command> [options], or npm run -s cli -- <command> [options]

Commands:
${columns(commands)}

Options of every command:
${columns(optionRows(GLOBAL_OPTIONS))}

Environment:
${columns(ENVIRONMENT)}

Exit codes:
${exitCodes()}

${PROGRAM} <command> --help shows a command's options.
`;
}

export function commandHelp(command: CommandName): string {
  const spec: CommandSpec = COMMANDS[command];
  return `Usage: ${PROGRAM} ${command} ${spec.arguments ? `${spec.arguments} ` : ''}[options]

${spec.summary[0].toUpperCase()}${spec.summary.slice(1)}.

${spec.description}

Options:
${columns(optionRows({ ...spec.options, ...GLOBAL_OPTIONS }))}

Exit codes:
${exitCodes()}
`;
}
