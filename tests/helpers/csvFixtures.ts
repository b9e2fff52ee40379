/** Generated CSV files with the messiness real exports have, and what the pipeline should make of them. */

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

const UNICODE_SAMPLES = ['Café crème brûlée — naïve façade', '東京の天気は晴れです', 'Emoji 🚀 rocket & 🌍 globe', 'Ελληνικά κείμενα', 'Zürich Straße Ünïcödé'];

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
    if (i % 7 === 0) text = `<p>Profile of <b>person ${i}</b></p>\n<ul><li>first line, with a comma</li>\n<li>second "quoted" line</li></ul>`;
    if (i % 11 === 0) text = `${UNICODE_SAMPLES[i % UNICODE_SAMPLES.length]} &amp; more for person ${i}`;
    if (i === 2500) text = `A very long profile. ${'word '.repeat(12_000)}`;
    if (i % 13 === 0) {
      text = i % 2 ? '' : '  <br/>  &nbsp; ';
      emptyTextIds.add(id);
    }
    const day = new Date(Date.UTC(2025, 0, 1) + (i % 60) * 86400000).toISOString().slice(0, 10);
    rows.push({ id, formatted_text: text, date: day, category: `cat-${i % 5}`, price: i % 3 === 0 ? '' : String((i * 1.25).toFixed(2)) });
  }
  const lines = ['id,formatted_text,date,category,price', ...rows.map((row) => [row.id, row.formatted_text, row.date, row.category, row.price].map(csvField).join(','))];
  const body = Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
  const longTextIds = new Set(count >= 2500 ? ['person-002500'] : []);
  return { bytes: options.bom === false ? body : Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]), rows, emptyTextIds, longTextIds };
}
