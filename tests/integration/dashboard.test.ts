/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, against the local
 * runtime as `npm start` runs it without keys (offline embedder, LanceDB). The page asks for the
 * key, uploads CSV files through POST /uploads, shows their tasks end (chunks, failures and the
 * retry button of a PARTIAL one; a COMPLETED one), and finds a record by its words. It saves a
 * screenshot in test-results/ (not kept in git); with UPDATE_DOCS=1 it also rewrites the one the
 * README shows, docs/dashboard.png. Without chromium it fails, saying how to get it.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createOfflineEmbedder } from '../../local/adapters/offlineEmbedder';
import { startLocalStack, TEST_API_KEY, type LocalStack } from '../helpers/localStack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = path.resolve(__dirname, '../../test-results/dashboard.png');
const DOCS_SCREENSHOT = path.resolve(__dirname, '../../docs/dashboard.png');
/**
 * Headless, and nothing of chromium's own: no background connection, which a closed network would
 * refuse or hang. Each launch gets a fresh profile of playwright's making.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SETTLED_MS = 60_000;

const csv = (rows: string[][]) => Buffer.from(['id,formatted_text,category', ...rows.map((row) => row.join(','))].join('\n'));
const CATALOG = csv([
  ['p1', 'Lightweight red running shoes with a cushioned sole', 'shoes'],
  ['p2', 'Waterproof hiking boots with ankle support', 'shoes'],
  ['p3', 'Organic green tea leaves from Darjeeling', 'tea'],
  ['p4', 'Smoky black tea blend for breakfast', 'tea'],
  ['p5', 'Stainless steel kettle that whistles', 'kitchen'],
]);
// The second row has no id: its record fails, so the task ends PARTIAL.
const WITH_A_BAD_ROW = csv([
  ['q1', 'Cast iron frying pan for searing', 'kitchen'],
  ['', 'A row without an id', 'kitchen'],
  ['q3', 'Bamboo cutting board', 'kitchen'],
]);

describe('dashboard (headless chromium, local runtime)', () => {
  let stack: LocalStack;
  let browser: Browser;
  let page: Page;
  /** Script errors, and console errors but chromium's line for each 4xx answer (a Content-Security-Policy violation is one). */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (as .ci/run does), or set CHROMIUM_PATH to one`);
    // Two records a chunk: three chunks for the grid.
    stack = await startLocalStack({ vectorStore: 'lancedb', runtime: { embedder: createOfflineEmbedder() }, env: { CHUNK_SIZE: '2' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const text = (selector: string) => page.locator(selector).innerText();

  /** Uploads through the page; resolves with the task the page found for it, once that task has ended. */
  async function upload(name: string, content: Buffer): Promise<string> {
    await page.setInputFiles('#file', { name, mimeType: 'text/csv', buffer: content });
    await page.click('#upload-form button');
    const started = new RegExp(`^Task (\\S+) started for \\S+-${name.replace('.', '\\.')}\\.$`);
    await page.locator('#upload-state', { hasText: started }).waitFor({ timeout: SETTLED_MS });
    const taskId = started.exec(await text('#upload-state'))![1];
    await page.locator('#detail-id', { hasText: new RegExp(`^${taskId}$`) }).waitFor({ timeout: SETTLED_MS });
    await page.locator('#detail-status', { hasText: /^(COMPLETED|PARTIAL|FAILED)$/ }).waitFor({ timeout: SETTLED_MS });
    return taskId;
  }

  it('is served without the key, with a policy that allows its own script and calls only', async () => {
    const response = await page.goto(`${stack.runtime.apiUrl}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'sha256-[^']+'; .*connect-src 'self'/);
    await expect(page.title()).resolves.toBe('vectordb-catchup');
    expect(await page.locator('#app').isHidden()).toBe(true);
  });

  it('asks for the key again when the API refuses it', async () => {
    await page.fill('#key', 'not-the-key');
    await page.click('#key-form button');
    await page.locator('#notice', { hasText: 'The API refused the key: Forbidden' }).waitFor();
    expect(await page.locator('#key-form').isVisible()).toBe(true);
    expect(await page.locator('#app').isHidden()).toBe(true);

    await page.fill('#key', TEST_API_KEY);
    await page.click('#key-form button');
    await page.locator('#no-tasks').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(1);
  });

  it('shows what the API says of a file it refuses', async () => {
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('id,formatted_text\n1,x\n') });
    await page.click('#upload-form button');
    await page.locator('#upload-state', { hasText: 'Upload refused (400): name must end in .csv' }).waitFor();
    expect(await page.locator('#no-tasks').isVisible()).toBe(true);
  });

  it('shows a PARTIAL upload: its failed chunk with the reason, and a retry button that asks POST /tasks/{id}/retry', async () => {
    const taskId = await upload('kitchen.csv', WITH_A_BAD_ROW);
    expect(await text('#detail-status')).toBe('PARTIAL');
    expect(await page.locator('#chunk-grid .chunk').count()).toBe(2);
    expect(await page.locator('#chunk-grid .chunk.with-failures').count()).toBe(1);
    expect(await text('#failed-chunks')).toMatch(/chunk 0: 1 of 2 records failed\s+row 2: .*id/);
    expect(await page.locator('#retry').isEnabled()).toBe(true);

    const retried = page.waitForResponse((response) => response.request().method() === 'POST');
    await page.click('#retry');
    const answer = await retried;
    expect(new URL(answer.url()).pathname).toBe(`/tasks/${taskId}/retry`);
    // What it shows is what the API answered, whichever that is.
    const shown =
      answer.status() === 202 ? 'retrying the failed parts' : `retry refused (${answer.status()}): ${(await answer.json()).error}`;
    await page.locator('#retry-state', { hasText: shown }).waitFor();
  });

  it('uploads a CSV file and shows its task reach COMPLETED with every chunk', async () => {
    const taskId = await upload('catalog.csv', CATALOG);
    expect(await text('#detail-status')).toBe('COMPLETED');
    expect(await page.locator('#chunk-grid .chunk.completed').count()).toBe(3);
    expect(await text('#detail-facts')).toContain('5 processed, 0 skipped, 0 failed of 5');
    expect(await page.locator('#failures').isHidden()).toBe(true);
    const row = page.locator(`#task-rows tr[data-task-id="${taskId}"]`);
    await row.locator('td.status', { hasText: 'COMPLETED' }).waitFor({ timeout: SETTLED_MS });
    expect(await row.locator('td.source').innerText()).toMatch(/^incoming\/\d{8}T\d{6}Z-[0-9a-f]{8}-catalog\.csv$/);
    expect(await page.locator('#task-rows tr').count()).toBe(2);
  });

  it('finds a record by its words, and saves the screenshot', async () => {
    await page.fill('#query', 'red running shoes');
    await page.click('#search-form button');
    await page.locator('#results li').first().waitFor();
    expect(await page.locator('#results li').first().getAttribute('data-id')).toBe('p1');
    expect(await page.locator('#results li').first().innerText()).toContain('Lightweight red running shoes');

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    if (process.env.UPDATE_DOCS === '1') copyFileSync(SCREENSHOT, DOCS_SCREENSHOT);
    expect(pageErrors).toEqual([]);
  });
});
