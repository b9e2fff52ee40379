/**
 * `npm run publish-event -- <file.json> [more.json …]`: puts events on the bus of the running
 * local product (EVENTBRIDGE_ENDPOINT, default http://127.0.0.1:4010), or on a deployed bus with
 * `--bus <name>` and the usual AWS credentials. A file holds one event or an array of them, each
 * as EventBridge shows it ({"detail-type", "source", "detail"}) or as PutEvents takes it
 * ({"DetailType", "Source", "Detail"}).
 */
import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

interface EventFileEntry {
  'detail-type'?: string;
  source?: string;
  detail?: unknown;
  DetailType?: string;
  Source?: string;
  Detail?: unknown;
}

function toEntry(event: EventFileEntry, file: string, bus: string | undefined): PutEventsRequestEntry {
  const detailType = event['detail-type'] ?? event.DetailType;
  const source = event.source ?? event.Source ?? 'local.publish-event';
  const detail = event.detail ?? event.Detail;
  if (!detailType || detail === undefined) throw new Error(`${file}: each event needs "detail-type" and "detail"`);
  return {
    DetailType: detailType,
    Source: source,
    Detail: typeof detail === 'string' ? detail : JSON.stringify(detail),
    ...(bus ? { EventBusName: bus } : {}),
  };
}

async function main(args: string[]): Promise<void> {
  const busIndex = args.indexOf('--bus');
  const bus = busIndex >= 0 ? args[busIndex + 1] : undefined;
  const files = busIndex < 0 ? args : args.filter((_, i) => i !== busIndex && i !== busIndex + 1);
  if (!files.length) throw new Error('usage: npm run publish-event -- <file.json> [--bus <deployed bus name>]');
  const client = bus
    ? new EventBridgeClient({})
    : new EventBridgeClient({
        endpoint: process.env.EVENTBRIDGE_ENDPOINT ?? 'http://127.0.0.1:4010',
        region: process.env.AWS_REGION ?? 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
  const entries = files.flatMap((file) => {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as EventFileEntry | EventFileEntry[];
    return (Array.isArray(parsed) ? parsed : [parsed]).map((event) => toEntry(event, file, bus));
  });
  let failed = 0;
  for (let i = 0; i < entries.length; i += 10) {
    const batch = entries.slice(i, i + 10);
    const output = await client.send(new PutEventsCommand({ Entries: batch }));
    output.Entries?.forEach((result, j) => {
      if (result.ErrorCode) {
        failed += 1;
        console.error(`${batch[j].DetailType}: rejected (${result.ErrorCode}: ${result.ErrorMessage})`);
      } else {
        console.log(`${batch[j].DetailType}: published as event ${result.EventId}`);
      }
    });
  }
  if (failed) process.exitCode = 1;
}

main(process.argv.slice(2)).catch((error) => {
  console.error(`publish-event: ${(error as Error).message}`);
  process.exit(1);
});
