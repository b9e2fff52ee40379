/**
 * The benchmark's helper processes, started with fork() (their options as JSON in argv[2]): the
 * simulators (simulatorProcess.ts) and the emulators (emulatorProcess.ts). Each request is a
 * message `{ type }`, answered by the next message of that type.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { connectEmulators, type Emulators, type S3Notification } from '../local/emulators';
import type { EmulatorProcessOptions, EmulatorStats } from './emulatorProcess';
import type { SimulatorProcessOptions, SimulatorStats } from './simulatorProcess';

/** A message between the benchmark and a helper process: its type and that type's fields. */
type Message = { type: string } & Record<string, unknown>;

interface ChildProcessHandle<Ready> {
  ready: Ready;
  request(type: string): Promise<Message>;
  close(): Promise<void>;
}

async function forkChild<Ready>(
  file: string,
  options: unknown,
  onMessage: (message: Message) => void = () => undefined,
): Promise<ChildProcessHandle<Ready>> {
  // The heap cap is the pipeline's (see npm run bench); the simulators keep up to 100K vectors.
  const execArgv = process.execArgv.filter((arg) => !/^--max-(old|semi)-space-size/.test(arg));
  const child: ChildProcess = fork(path.join(__dirname, file), [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  const waiting = new Map<string, { resolve: (message: Message) => void; reject: (error: Error) => void }[]>();
  child.on('message', (message: Message) => {
    onMessage(message);
    waiting.get(message.type)?.shift()?.resolve(message);
  });
  child.once('exit', (code) => {
    for (const waiter of [...waiting.values()].flat()) waiter.reject(new Error(`${file} exited (${code})`));
    waiting.clear();
  });
  const next = (type: string) =>
    new Promise<Message>((resolve, reject) => {
      waiting.set(type, [...(waiting.get(type) ?? []), { resolve, reject }]);
    });
  const ready = (await next('ready')) as Ready;
  return {
    ready,
    async request(type) {
      const reply = next(type);
      child.send({ type });
      return reply;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

export interface SimulatorHandle {
  openaiUrl: string;
  pineconeUrl: string;
  stats(): Promise<SimulatorStats>;
  close(): Promise<void>;
}

export async function startSimulatorProcess(options: SimulatorProcessOptions): Promise<SimulatorHandle> {
  const child = await forkChild<{ openaiUrl: string; pineconeUrl: string }>('simulatorProcess.ts', options);
  return {
    openaiUrl: child.ready.openaiUrl,
    pineconeUrl: child.ready.pineconeUrl,
    stats: async () => (await child.request('stats')).stats as SimulatorStats,
    close: child.close,
  };
}

/** DynamoDB and S3 in their own process, used through the same clients as in process; stats() is that process's CPU and memory. */
export type EmulatorHandle = Emulators & { stats(): Promise<EmulatorStats> };

export async function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorHandle> {
  const listeners: ((notification: S3Notification) => void)[] = [];
  const child = await forkChild<{ dynamoEndpoint: string; s3Endpoint: string }>('emulatorProcess.ts', options, (message) => {
    if (message.type === 'objectCreated') for (const listener of listeners) listener(message.notification as S3Notification);
  });
  const emulators = connectEmulators({
    dynamoEndpoint: child.ready.dynamoEndpoint,
    s3Endpoint: child.ready.s3Endpoint,
    region: options.region,
    onObjectCreated: (listener) => listeners.push(listener),
    close: child.close,
  });
  return { ...emulators, stats: async () => (await child.request('stats')).stats as EmulatorStats };
}
