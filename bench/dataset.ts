/**
 * The benchmark's input: a CSV of catalogue-like records with the mix real exports have (some
 * HTML, entities, unicode, empty texts), written as a stream so that a million rows never sit in
 * memory. Deterministic: the same row count gives the same file. Texts average ~60 tokens
 * (cl100k_base), from ~10 to ~200.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

const NOUNS = [
  'running shoes',
  'green tea',
  'jazz records',
  'mountain bike',
  'espresso machine',
  'wool scarf',
  'desk lamp',
  'camping tent',
  'yoga mat',
  'phone case',
  'cast-iron pan',
  'headphones',
  'backpack',
  'water bottle',
  'notebook',
  'sunglasses',
];
const ADJECTIVES = [
  'lightweight',
  'durable',
  'handmade',
  'organic',
  'compact',
  'waterproof',
  'refurbished',
  'premium',
  'vintage',
  'ergonomic',
  'recycled',
  'wireless',
];
const PHRASES = [
  'ships within two business days',
  'customers often buy it together with a matching accessory',
  'rated highly for comfort and value by returning buyers',
  'available in several colours and sizes',
  'comes with a two-year limited warranty',
  'made from responsibly sourced materials',
  'easy to clean and simple to store',
  'popular with commuters, students and weekend travellers',
  'the previous model had a shorter battery life',
  'support tickets mention the sizing chart',
];
const UNICODE = ['Café crème — naïve façade', '東京の天気は晴れです', 'Zürich Straße', 'Ελληνικά', 'emoji 🚀 and 🌍'];
const CATEGORIES = ['outdoor', 'kitchen', 'audio', 'fitness', 'office', 'fashion'];

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function recordText(i: number, next: () => number): string {
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
  if (next() < 0.02) return next() < 0.5 ? '' : '  <br/> &nbsp; ';
  // 1 to 16 sentences, most 2-6: about 60 tokens on average.
  const sentences = 1 + Math.min(15, Math.floor(-Math.log(1 - next()) * 4.5));
  const parts: string[] = [`Item ${i}: ${pick(ADJECTIVES)} ${pick(NOUNS)}.`];
  for (let s = 1; s < sentences; s++) parts.push(`It is ${pick(ADJECTIVES)} and ${pick(PHRASES)}.`);
  if (next() < 0.1) parts.push(pick(UNICODE));
  const text = parts.join(' ');
  return next() < 0.2
    ? `<p>${text.replace('Item', '<b>Item').replace(':', ':</b>')}</p>\n<ul><li>${pick(PHRASES)} &amp; more</li></ul>`
    : text;
}

/** Writes `rows` records to `path`; resolves with the file's size in bytes. */
export async function writeCatalogueCsv(path: string, rows: number, seed = 42): Promise<number> {
  const next = random(seed);
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (line: string) => {
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  };
  await write('id,formatted_text,date,category,price\n');
  for (let i = 1; i <= rows; i++) {
    const day = new Date(Date.UTC(2025, 0, 1) + (i % 365) * 86_400_000).toISOString().slice(0, 10);
    const price = (5 + next() * 495).toFixed(2);
    await write(`sku-${String(i).padStart(8, '0')},${field(recordText(i, next))},${day},${CATEGORIES[i % CATEGORIES.length]},${price}\n`);
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}
