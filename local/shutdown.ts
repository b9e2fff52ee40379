/**
 * What a persisted local runtime says of what the last run left behind, and its graceful stop on
 * SIGINT/SIGTERM: no new messages received, running handlers given STOP_GRACE_MS to finish, the
 * messages of those still running handed back (delivered again by the next start), then exit.
 */
import type { LocalRuntime, RuntimeStopReport } from './runtime';

/** How long a stop waits for running handlers before handing their messages back. */
export const STOP_GRACE_MS = 10_000;

/** One line per thing taken over from the last run (none after a clean stop with nothing left). */
export function recoveredLines({ inFlight, executions }: LocalRuntime['recovered']): string[] {
  const messages = inFlight.reduce((sum, queue) => sum + queue.messages, 0);
  const where = inFlight.map(({ queue, messages }) => `${queue} ${messages}`).join(', ');
  return [
    ...(messages > 0 ? [`recovered: ${messages} message(s) in flight when the last run stopped (${where}), delivered again now`] : []),
    ...(executions.length > 0 ? [`recovered: large-CSV planning resumed for ${executions.join(', ')}`] : []),
  ];
}

export function stoppedLines({ queues, suspendedExecutions }: RuntimeStopReport): string[] {
  const inFlight = queues.reduce((sum, report) => sum + report.inFlight, 0);
  const handedBack = queues.reduce((sum, report) => sum + report.handedBack, 0);
  const where = queues.filter((report) => report.handedBack > 0).map((report) => `${report.queue} ${report.handedBack}`);
  return [
    `stopped: ${inFlight} message(s) were in flight, ${inFlight - handedBack} finished, handed back ${handedBack}` +
      (where.length ? ` (${where.join(', ')}; delivered again on the next start)` : ''),
    ...(suspendedExecutions.length > 0
      ? [`stopped: large-CSV planning suspended for ${suspendedExecutions.join(', ')}; it resumes on the next start`]
      : []),
  ];
}

/** On the first SIGINT/SIGTERM, stops gracefully and exits; a second one exits at once. */
export function stopOnSignals(runtime: LocalRuntime, options: { beforeStop?: () => void; log?: (line: string) => void } = {}): void {
  const log = options.log ?? console.log;
  let stopping = false;
  const stop = async () => {
    options.beforeStop?.();
    const running = [...runtime.queues.values()].reduce((sum, { queue }) => sum + queue.stats.inFlight, 0);
    log(
      `stopping: no new messages received; waiting up to ${STOP_GRACE_MS / 1000} s for ${running} running handler(s) (signal again to stop at once)`,
    );
    stoppedLines(await runtime.stop({ graceMs: STOP_GRACE_MS })).forEach((line) => log(line));
  };
  const onSignal = () => {
    if (stopping) {
      log('stopping at once: what was in flight is delivered again on the next start');
      process.exit(1);
    }
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: Error) => {
        log(`could not stop cleanly: ${error.message}; what was in flight is delivered again on the next start`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
