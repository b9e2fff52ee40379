/**
 * `serverless package --stage test`, offline, ONCE for all the template tests: packaging takes
 * tens of seconds, so its output is cached in the temp dir under a hash of everything it is built
 * from (taken once per jest run). The first test file, in whichever jest worker, to need it
 * packages under a lock; the others wait for it; later runs with the same inputs reuse it. A stage
 * packaged with `--param` settings is another package, made once the same way.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(__dirname, '../../..');
export const STAGE = 'test';

/** Values put in the packaging shell: none may reach the template or the resolved configuration. */
export const CANARIES = {
  OPENAI_API_KEY: 'sk-proj-canaryCANARYcanary0123456789',
  PINECONE_API_KEY: 'pcsk_canaryCANARYcanary0123456789',
  METABASE_API_KEY: 'mb_canaryCANARYcanary0123456789',
  API_KEY: 'api-key-canaryCANARYcanary0123456789',
};

export interface Packaged {
  /** The `--package` directory: the template, the resolved state and one zip per function. */
  packageDir: string;
  templateText: string;
  stateText: string;
}

/** What the package is built from; a change to any of them packages anew. */
const INPUT_DIRS = ['infra', 'events-schema', 'services', 'shared'];
const INPUT_FILES = ['serverless.yml', 'package.json', 'package-lock.json', 'tsconfig.json'];
const CACHE_PREFIX = 'vectordb-catchup-template-';
const CACHE_MAX_AGE_MS = 24 * 3600 * 1000;
const WAIT_MS = 10 * 60 * 1000;

/** `--param` settings of a stage, by name. */
export type StageParams = Record<string, string>;

export async function packagedTemplate(params: StageParams = {}): Promise<Packaged> {
  const paramsHash = createHash('sha256')
    .update(JSON.stringify(Object.entries(params).sort()))
    .digest('hex')
    .slice(0, 8);
  const dir = join(tmpdir(), `${CACHE_PREFIX}${runInputsHash()}${Object.keys(params).length ? `-${paramsHash}` : ''}`);
  const packageDir = join(dir, 'package');
  const ready = join(dir, 'ready');
  const failed = join(dir, 'failed');
  const lock = join(dir, 'lock');
  mkdirSync(dir, { recursive: true });
  const waitingSince = Date.now();
  while (!existsSync(ready)) {
    if (takeLock(lock)) {
      try {
        if (!existsSync(ready)) {
          try {
            await runPackage(dir, packageDir, params);
          } catch (error) {
            writeFileSync(failed, (error as Error).message);
            throw error;
          }
          writeFileSync(ready, '');
          removeOldCaches(dir);
        }
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
      break;
    }
    // Another worker of this run tried and failed: its error, once, rather than packaging again.
    if (existsSync(failed) && statSync(failed).mtimeMs >= waitingSince) throw new Error(readFileSync(failed, 'utf8'));
    if (lockIsStale(lock)) rmSync(lock, { recursive: true, force: true });
    if (Date.now() - waitingSince > WAIT_MS) throw new Error(`gave up waiting for ${lock}`);
    await new Promise((done) => setTimeout(done, 250));
  }
  const now = new Date();
  utimesSync(ready, now, now);
  return {
    packageDir,
    templateText: readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
    stateText: readFileSync(join(packageDir, 'serverless-state.json'), 'utf8'),
  };
}

async function runPackage(workDir: string, packageDir: string, params: StageParams): Promise<void> {
  rmSync(packageDir, { recursive: true, force: true });
  // serverless-esbuild leaves its zip staging folders in the temp dir: keep them in ours.
  const scratch = join(workDir, 'tmp');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Prove packaging needs no AWS account: no credentials, no profile, no shared files.
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[name];
  Object.assign(env, CANARIES, {
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-credentials'),
    AWS_CONFIG_FILE: join(workDir, 'no-config'),
    TMPDIR: scratch,
  });
  const cli = join(ROOT, 'node_modules/serverless/bin/serverless.js');
  try {
    const paramArgs = Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]);
    await promisify(execFile)(process.execPath, [cli, 'package', '--stage', STAGE, '--package', packageDir, ...paramArgs], {
      cwd: ROOT,
      env,
      maxBuffer: 32 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`serverless package failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The inputs' hash as the first worker of this jest run found it: every test file of a run sees
 * the same package, even when a file changes while the run is under way.
 */
function runInputsHash(): string {
  // Jest forks its workers with an IPC channel: their parent is the run. Run in band, this process is.
  const runner = typeof process.send === 'function' ? process.ppid : process.pid;
  const file = join(tmpdir(), `${CACHE_PREFIX}run-${runner}-${startTimeOf(runner)}`);
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const hash = inputsHash();
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, hash);
  try {
    linkSync(mine, file); // atomic, and fails if another worker got there first
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(mine, { force: true });
  }
  return readFileSync(file, 'utf8');
}

/** Where the system tells (Linux), so that a reused pid is another run. */
function startTimeOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
  } catch {
    return '';
  }
}

/** Contents of every input file, this file, the Node version and the environment variables serverless.yml reads. */
function inputsHash(): string {
  const hash = createHash('sha256');
  const files = [...INPUT_FILES.map((file) => join(ROOT, file)), ...INPUT_DIRS.flatMap((dir) => filesUnder(join(ROOT, dir))), __filename];
  for (const file of files.sort()) {
    hash.update(`${relative(ROOT, file)}\0`);
    hash.update(readFileSync(file));
  }
  const serverlessYml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
  for (const [, name] of [...serverlessYml.matchAll(/\benv:([A-Za-z_][A-Za-z0-9_]*)/g)].sort())
    hash.update(`${name}=${process.env[name] ?? ''}\0`);
  hash.update(process.version);
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

/** mkdir is atomic: whoever creates the lock directory packages. */
function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  writeFileSync(join(lock, 'pid'), String(process.pid));
  return true;
}

/** Left behind by a worker that died while packaging. */
function lockIsStale(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    // No pid yet: just taken, unless it has been so for a while (or already released).
    try {
      return Date.now() - statSync(lock).mtimeMs > 30_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Packages of earlier inputs unused for a day, and the hashes of runs as old. */
function removeOldCaches(current: string): void {
  const old = (path: string) => Date.now() - statSync(path).mtimeMs > CACHE_MAX_AGE_MS;
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (!name.startsWith(CACHE_PREFIX) || path === current) continue;
    try {
      if (name.startsWith(`${CACHE_PREFIX}run-`)) {
        if (old(path)) rmSync(path, { force: true });
      } else if (!existsSync(join(path, 'lock')) && existsSync(join(path, 'ready')) && old(join(path, 'ready'))) {
        rmSync(path, { recursive: true, force: true });
      }
    } catch {
      // Removed meanwhile by another run's cleanup.
    }
  }
}
