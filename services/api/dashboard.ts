/**
 * GET /: the dashboard's page (README › Dashboard). The page holds no data, so it is the one route
 * served without the API key (`apiKey: false` in infra/wiring.yml); it asks for the key and sends
 * it on every call it makes, each checked as any other.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { UPLOAD_LIMITS } from '../../shared/domain/upload';

/** Packaged beside the bundle (the function's `files` in infra/wiring.yml), at the same path relative to it. */
const PAGE_FILE = path.join(__dirname, 'dashboard.html');

export function createHandler() {
  let page: APIGatewayProxyResult | undefined;
  return async (): Promise<APIGatewayProxyResult> => (page ??= dashboardPage(readFileSync(PAGE_FILE, 'utf8')));
}

/**
 * The page with its settings filled in. Its Content-Security-Policy allows its own inline script
 * and style (by their hashes) and calls to its own origin, nothing else: the key the page keeps
 * cannot be sent anywhere by injected code.
 */
function dashboardPage(template: string): APIGatewayProxyResult {
  const html = template.replaceAll('{{MAX_UPLOAD_BYTES}}', String(UPLOAD_LIMITS.maxBytes));
  const hashesOf = (tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))]
      .map(([, content]) => `'sha256-${createHash('sha256').update(content).digest('base64')}'`)
      .join(' ');
  const policy = [
    "default-src 'none'",
    `script-src ${hashesOf('script')}`,
    `style-src ${hashesOf('style')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': policy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    },
    body: html,
  };
}

export const handler = createHandler();
