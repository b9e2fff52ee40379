import { METADATA_BYTE_BUDGET, contentHash, cutToBytes, decideByStoredHash, isoDate, prepareRecord, type RecordContext } from '../../../shared/domain/records';

const context: RecordContext = {
  columns: { text: 'formatted_text', id: 'id', date: 'date' },
  hasIdColumn: true,
  sourceUri: 's3://bucket/file.csv',
  taskId: 'task-1',
  dataSource: 's3_csv',
};

describe('prepareRecord', () => {
  it('makes id, sanitised text, coerced metadata and provenance', () => {
    const prepared = prepareRecord({ id: ' 42 ', formatted_text: '<b>Hi</b> there', price: 3.5, active: true, tags: ['a', null, 'b'], nested: { a: 1 }, empty: '', missing: null }, 7, context);
    expect(prepared).toEqual({
      kind: 'embed',
      recordNumber: 7,
      id: '42',
      text: 'Hi there',
      metadata: { text: 'Hi there', id: ' 42 ', price: 3.5, active: true, tags: ['a', 'b'], nested: '{"a":1}', _source: 's3://bucket/file.csv', _data_source: 's3_csv', _task_id: 'task-1', _record_number: 7 },
    });
  });

  it('skips a record whose text is empty after sanitising', () => {
    expect(prepareRecord({ id: '1', formatted_text: '<p> </p>' }, 1, context)).toEqual({ kind: 'skip', recordNumber: 1, reason: 'empty_text' });
  });

  it('fails a record without an id, or with an id too long for Pinecone', () => {
    expect(prepareRecord({ id: '  ', formatted_text: 'x' }, 3, context)).toMatchObject({ kind: 'fail', recordNumber: 3, message: expect.stringContaining('"id" is empty') });
    expect(prepareRecord({ id: 'x'.repeat(513), formatted_text: 'x' }, 4, context)).toMatchObject({ kind: 'fail', message: expect.stringContaining('at most 512') });
  });

  it('derives a stable id from the source and the row when there is no id column', () => {
    const noIds = { ...context, hasIdColumn: false };
    const a = prepareRecord({ formatted_text: 'same' }, 1, noIds);
    const b = prepareRecord({ formatted_text: 'same' }, 9, noIds);
    const other = prepareRecord({ formatted_text: 'same' }, 1, { ...noIds, sourceUri: 's3://bucket/other.csv' });
    expect(a.kind === 'embed' && b.kind === 'embed' && a.id === b.id).toBe(true);
    expect(other.kind === 'embed' && a.kind === 'embed' && other.id !== a.id).toBe(true);
  });

  it('skips rows dated before start_date and fails rows without a readable date', () => {
    const dated = { ...context, startDate: '2025-02-01' };
    expect(prepareRecord({ id: '1', formatted_text: 'x', date: '2025-01-31T23:00:00Z' }, 1, dated)).toMatchObject({ kind: 'skip', reason: 'before_start_date' });
    expect(prepareRecord({ id: '1', formatted_text: 'x', date: '2025-02-01' }, 1, dated)).toMatchObject({ kind: 'embed' });
    expect(prepareRecord({ id: '1', formatted_text: 'x', date: 'soon' }, 1, dated)).toMatchObject({ kind: 'fail', message: expect.stringContaining('not a date') });
  });

  it('cuts text (and then the longest columns) so the metadata fits 40 KB', () => {
    const prepared = prepareRecord({ id: '1', formatted_text: 'é'.repeat(60_000), notes: 'n'.repeat(50_000) }, 1, context);
    if (prepared.kind !== 'embed') throw new Error('expected embed');
    expect(Buffer.byteLength(JSON.stringify(prepared.metadata))).toBeLessThanOrEqual(METADATA_BYTE_BUDGET);
    expect(prepared.text).toHaveLength(60_000);
    expect(prepared.metadata._text_truncated).toBe(true);
    expect(prepared.metadata._metadata_truncated).toBe(true);
    expect((prepared.metadata.text as string).length).toBeGreaterThan(1000);
  });
});

describe('isoDate', () => {
  it.each([
    ['2025-03-04', '2025-03-04'],
    ['2025-03-04 10:00:00', '2025-03-04'],
    ['March 4, 2025 UTC', '2025-03-04'],
    ['2025-02-30', undefined],
    ['', undefined],
  ])('%j → %j', (value, expected) => expect(isoDate(value)).toBe(expected));
});

describe('cutToBytes', () => {
  it('never splits a multi-byte character', () => {
    expect(cutToBytes('aé€', 3)).toBe('aé');
    expect(cutToBytes('aé€', 4)).toBe('aé');
    expect(cutToBytes('aé€', 6)).toBe('aé€');
  });
});

describe('contentHash', () => {
  const metadata = { text: 'Red shoes', category: 'outdoor', price: 3.5, _source: 's3://b/a.csv', _task_id: 'task-1', _record_number: 7 };
  const hash = (overrides: Partial<{ id: string; input: string; model: string; dimensions: number; metadata: typeof metadata }> = {}) => {
    const { id = 'sku-1', input = 'Red shoes', model = 'text-embedding-3-small', dimensions = 1536, metadata: stored = metadata } = overrides;
    return contentHash(id, input, model, dimensions, stored);
  };

  it('ignores what changes on every run (task id, record number) and the order of the metadata keys', () => {
    const reordered = Object.fromEntries(Object.entries(metadata).reverse()) as typeof metadata;
    expect(hash({ metadata: { ...metadata, _task_id: 'task-2', _record_number: 9 } })).toBe(hash());
    expect(hash({ metadata: reordered })).toBe(hash());
  });

  it('changes with the id, the embedded input, the model, the dimensions and any stored metadata value', () => {
    const variants = [
      hash({ id: 'sku-2' }),
      hash({ input: 'Red shoes!' }),
      hash({ model: 'text-embedding-3-large' }),
      hash({ dimensions: 512 }),
      hash({ metadata: { ...metadata, category: 'kitchen' } }),
      hash({ metadata: { ...metadata, price: 3.51 } }),
      hash({ metadata: { ...metadata, _source: 's3://b/b.csv' } }),
    ];
    expect(new Set([hash(), ...variants]).size).toBe(variants.length + 1);
  });

  it('keeps fields apart: moving text between the id and the input changes the hash', () => {
    expect(contentHash('ab', 'c', 'm', 1, {})).not.toBe(contentHash('a', 'bc', 'm', 1, {}));
  });
});

describe('decideByStoredHash', () => {
  it('embeds a record never upserted, or changed since', () => {
    expect(decideByStoredHash('h1', undefined, 'task-1', false)).toBe('embed');
    expect(decideByStoredHash('h1', { hash: 'h0', taskId: 'task-0' }, 'task-1', false)).toBe('embed');
    expect(decideByStoredHash('h1', { hash: 'h0', taskId: 'task-1' }, 'task-1', false)).toBe('embed');
  });

  it('skips as unchanged a record another task upserted as it is, unless forced', () => {
    expect(decideByStoredHash('h1', { hash: 'h1', taskId: 'task-0', tokens: 5 }, 'task-1', false)).toBe('unchanged');
    expect(decideByStoredHash('h1', { hash: 'h1' }, 'task-1', false)).toBe('unchanged');
    expect(decideByStoredHash('h1', { hash: 'h1', taskId: 'task-0' }, 'task-1', true)).toBe('embed');
  });

  it('counts as done what this task already upserted as it is, forced or not: a retry never pays twice', () => {
    expect(decideByStoredHash('h1', { hash: 'h1', taskId: 'task-1', tokens: 5 }, 'task-1', false)).toBe('done');
    expect(decideByStoredHash('h1', { hash: 'h1', taskId: 'task-1', tokens: 5 }, 'task-1', true)).toBe('done');
  });
});
