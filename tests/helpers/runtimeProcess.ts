/**
 * The local runtime as `npm start` runs it (persisted under a data directory, fixed ports, the
 * same graceful stop on SIGINT/SIGTERM), in a process of its own that a test can kill. Its
 * options come as JSON in argv[2], its configuration from the environment; it prints what it
 * recovered, then `ready`, then what its stop did.
 */
import { startLocalRuntime } from '../../local/runtime';
import { recoveredLines, stopOnSignals } from '../../local/shutdown';

export interface RuntimeProcessOptions {
  dataDir: string;
  port: number;
  s3Port: number;
  dynamoPort: number;
  eventsPort: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as RuntimeProcessOptions;
  const runtime = await startLocalRuntime({ ...options, persist: true });
  recoveredLines(runtime.recovered).forEach((line) => console.log(line));
  stopOnSignals(runtime);
  console.log('ready');
}

main().catch((error) => {
  console.error(`could not start: ${(error as Error).stack}`);
  process.exit(1);
});
