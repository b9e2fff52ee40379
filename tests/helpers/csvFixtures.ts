/** Generated CSV files with the messiness real exports have, and what the pipeline should make of them. */
import { sanitizeText } from '../../shared/domain/sanitize';
import { requestTokens } from '../../simulators/openai/tokens';

export interface PeopleRow {
  id: string;
  formatted_text: string;
  date: string;
  category: string;
  price: string;
}

export interface PeopleCsv {
  bytes: Buffer;
  rows: PeopleRow[];
  /** Rows whose text is empty once sanitised: skipped, never embedded. */
  emptyTextIds: Set<string>;
  /** Rows whose text is over the model's token limit (when the file has 2500 rows or more). */
  longTextIds: Set<string>;
}

const UNICODE_SAMPLES = [
  'Café crème brûlée — naïve façade',
  '東京の天気は晴れです',
  'Emoji 🚀 rocket & 🌍 globe',
  'Ελληνικά κείμενα',
  'Zürich Straße Ünïcödé',
];

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A CSV with a BOM, CRLF endings, quoted commas and newlines, unicode, markup and empty texts. */
export function peopleCsv(count: number, options: { bom?: boolean; startDay?: string } = {}): PeopleCsv {
  const rows: PeopleRow[] = [];
  const emptyTextIds = new Set<string>();
  for (let i = 1; i <= count; i += 1) {
    const id = `person-${String(i).padStart(6, '0')}`;
    let text = `Person ${i} works in ${['sales', 'engineering', 'support', 'marketing'][i % 4]}, likes ${['red running shoes', 'green tea', 'jazz records', 'mountain bikes'][i % 4]}.`;
    if (i % 7 === 0)
      text = `<p>Profile of <b>person ${i}</b></p>\n<ul><li>first line, with a comma</li>\n<li>second "quoted" line</li></ul>`;
    if (i % 11 === 0) text = `${UNICODE_SAMPLES[i % UNICODE_SAMPLES.length]} &amp; more for person ${i}`;
    if (i === 2500) text = `A very long profile. ${'word '.repeat(12_000)}`;
    if (i % 13 === 0) {
      text = i % 2 ? '' : '  <br/>  &nbsp; ';
      emptyTextIds.add(id);
    }
    const day = new Date(Date.UTC(2025, 0, 1) + (i % 60) * 86400000).toISOString().slice(0, 10);
    rows.push({ id, formatted_text: text, date: day, category: `cat-${i % 5}`, price: i % 3 === 0 ? '' : String((i * 1.25).toFixed(2)) });
  }
  const lines = [
    'id,formatted_text,date,category,price',
    ...rows.map((row) => [row.id, row.formatted_text, row.date, row.category, row.price].map(csvField).join(',')),
  ];
  const body = Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
  const longTextIds = new Set(count >= 2500 ? ['person-002500'] : []);
  return { bytes: options.bom === false ? body : Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]), rows, emptyTextIds, longTextIds };
}

/** One row of a product catalogue export: the dataset a full sync keeps the index in step with. */
export interface CatalogRow {
  id: string;
  formatted_text: string;
  category: string;
  price: string;
}

const PRODUCTS = ['trail running shoe', 'espresso machine', 'oak bookshelf', 'wool blanket', 'desk lamp', 'travel mug', 'garden hose'];
const COLOURS = ['red', 'forest green', 'navy', 'charcoal', 'sand', 'copper'];
const USES = ['weekend hikes', 'small kitchens', 'reading corners', 'cold evenings', 'late nights', 'long commutes'];

/**
 * `count` catalogue rows with ids `<prefix>-000001`…. Their texts are already clean prose (no markup,
 * entities or stray whitespace), so the input embedded is the text itself; some have commas and
 * quotes, which the CSV quotes.
 */
export function catalogRows(count: number, options: { prefix?: string } = {}): CatalogRow[] {
  const prefix = options.prefix ?? 'catalog';
  return Array.from({ length: count }, (_, index) => {
    const n = index + 1;
    const product = PRODUCTS[n % PRODUCTS.length];
    let text = `Item ${n}: a ${COLOURS[n % COLOURS.length]} ${product} for ${USES[(n * 5) % USES.length]}.`;
    if (n % 9 === 0) text = `Item ${n}, the "${product}" in ${COLOURS[(n * 3) % COLOURS.length]}, with a two-year warranty.`;
    return { id: `${prefix}-${String(n).padStart(6, '0')}`, formatted_text: text, category: `cat-${n % 7}`, price: (n * 1.25).toFixed(2) };
  });
}

/** A CSV of `rows` (LF endings), its header the given columns or the first row's keys. */
export function csvOf(rows: readonly object[], columns?: readonly string[]): string {
  const header = columns ?? Object.keys(rows[0] ?? { id: '', formatted_text: '', category: '', price: '' });
  const cell = (row: object, column: string): string => {
    const value = (row as Record<string, unknown>)[column];
    return value === undefined || value === null ? '' : csvField(String(value));
  };
  return `${[header.join(','), ...rows.map((row) => header.map((column) => cell(row, column)).join(','))].join('\n')}\n`;
}

/** The next day's export of a catalogue and what changed in it, by id. */
export interface CatalogChanges {
  rows: CatalogRow[];
  /** Rows gone from the export (10%): a full sync deletes their vectors. */
  removedIds: string[];
  /** Rows whose text changed (5%), by a word: re-embedded. */
  changedTextIds: string[];
  /** Other rows whose category changed (5%): same text, so metadata updated without embedding. */
  changedCategoryIds: string[];
  /** Rows exactly as they were. */
  unchangedIds: string[];
}

/** The next day's export: of every 20 rows, 2 removed, 1 with new text, 1 with a new category, 16 as they were. */
export function nextDayCatalog(rows: readonly CatalogRow[]): CatalogChanges {
  const next: CatalogChanges = { rows: [], removedIds: [], changedTextIds: [], changedCategoryIds: [], unchangedIds: [] };
  rows.forEach((row, index) => {
    const slot = index % 20;
    if (slot < 2) {
      next.removedIds.push(row.id);
    } else if (slot === 2) {
      // A changed word, so that the new text costs about what the old one did.
      next.rows.push({ ...row, formatted_text: row.formatted_text.replace(/ (a|the) /, ' one ') });
      next.changedTextIds.push(row.id);
    } else if (slot === 3) {
      next.rows.push({ ...row, category: `${row.category}-clearance` });
      next.changedCategoryIds.push(row.id);
    } else {
      next.rows.push({ ...row });
      next.unchangedIds.push(row.id);
    }
  });
  return next;
}

/**
 * The embedding tokens the OpenAI simulator bills for these texts, counted as it counts them
 * (cl100k_base, one input each) on the sanitised text, which is what the pipeline embeds.
 */
export function embeddingTokens(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + requestTokens([sanitizeText(text)]), 0);
}
