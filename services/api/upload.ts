/** POST /uploads?name=people.csv with the file as the body: stored under the ingest prefix, whose S3 trigger starts its task. */
import { awsDependencies } from '../../shared/composition/aws';
import { UPLOAD_LIMITS } from '../../shared/domain/upload';
import { createHttpHandler, HttpProblem } from '../../shared/edges/http';
import type { DependencyProvider } from '../../shared/ports';
import { uploadCsv } from '../../shared/usecases/uploadCsv';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    // A JSON content type has the edge parse the body into an object: the file must come as it is.
    if (event.body !== null && event.body !== undefined && typeof event.body !== 'string')
      throw new HttpProblem(415, 'POST /uploads takes the CSV file itself as the body (Content-Type: text/csv)');
    const body = event.body ?? '';
    if (Buffer.byteLength(body) > UPLOAD_LIMITS.maxBytes)
      throw new HttpProblem(413, `the file is over ${UPLOAD_LIMITS.maxBytes} bytes; upload it to the bucket's ingest prefix instead`);
    return { statusCode: 202, body: await uploadCsv({ ...(event.queryStringParameters ?? {}) }, body, deps) };
  }, provide);
}

export const handler = createHandler(awsDependencies);
