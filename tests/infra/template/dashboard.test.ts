/**
 * The dashboard as deployed: its page is the one method without the API key, its function reaches
 * nothing of ours, and the packaged function answers the page from its own zip.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UPLOAD_LIMITS } from '../../../shared/domain/upload';
import { type Json, ofType, packaged, readZip, resource, usePackagedTemplate } from './helpers';

usePackagedTemplate();

describe('the dashboard', () => {
  it('is deployed at the root of the API, the only method without the key', () => {
    const withoutKey = ofType('AWS::ApiGateway::Method')
      .map(([, r]) => r.Properties)
      .filter((method) => method.ApiKeyRequired !== true);
    expect(withoutKey).toHaveLength(1);
    const [page] = withoutKey;
    expect(page).toMatchObject({
      HttpMethod: 'GET',
      ApiKeyRequired: false,
      ResourceId: { 'Fn::GetAtt': ['ApiGatewayRestApi', 'RootResourceId'] },
    });
    expect(JSON.stringify(page.Integration.Uri)).toContain('"DashboardLambdaFunction"');
    expect(resource('DashboardLambdaFunction').Properties.Handler).toBe('services/api/dashboard.handler');
  });

  it('answers the page from its packaged zip, without a key, with its policy', async () => {
    const entries = readZip(join(packaged().packageDir, 'dashboard.zip'));
    expect([...entries.keys()].sort()).toEqual(expect.arrayContaining(['services/api/dashboard.html', 'services/api/dashboard.js']));
    const bundleDir = mkdtempSync(join(tmpdir(), 'dashboard-bundle-'));
    try {
      for (const [name, content] of entries) {
        mkdirSync(join(bundleDir, name, '..'), { recursive: true });
        writeFileSync(join(bundleDir, name), content);
      }
      // Node's own require: the bundle runs as Lambda would load it, outside jest's module system.
      const { handler } = createRequire(__filename)(join(bundleDir, 'services/api/dashboard.js'));
      const answer: Json = await handler({ httpMethod: 'GET', path: '/', headers: {}, body: null }, {});
      expect(answer.statusCode).toBe(200);
      expect(answer.headers).toMatchObject({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': expect.stringMatching(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; /),
      });
      expect(answer.body).toContain('<title>vectordb-catchup</title>');
      expect(answer.body).toContain(`<meta name="max-upload-bytes" content="${UPLOAD_LIMITS.maxBytes}" />`);
    } finally {
      rmSync(bundleDir, { recursive: true, force: true });
    }
  });
});
