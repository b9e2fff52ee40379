import {
  METADATA_BYTE_BUDGET,
  cutToBytes,
  decideByStoredState,
  embeddingKey,
  isTombstone,
  isoDate,
  metadataHash,
  prepareRecord,
  type RecordContext,
} from '../../../../shared/domain/records';

const context: RecordContext = {
  columns: { text: 'formatted_text', id: 'id', date: 'date', deleted: '_deleted' },
  hasIdColumn: true,
  sourceUri: 's3://bucket/file.csv',
  dataset: 'file.csv',
  idScope: 's3://bucket/file.csv',
  taskId: 'task-1',
  dataSource: 's3_csv',
};

describe('prepareRecord', () => {
  it('makes id, sanitised text, coerced metadata and provenance', () => {
    const prepared = prepareRecord(
      {
        id: ' 42 ',
        formatted_text: '<b>Hi</b> there',
        price: 3.5,
        active: true,
        tags: ['a', null, 'b'],
        nested: { a: 1 },
        empty: '',
        missing: null,
      },
      7,
      context,
    );
    expect(prepared).toEqual({
      kind: 'embed',
      recordNumber: 7,
      id: '42',
      text: 'Hi there',
      metadata: {
        text: 'Hi there',
        id: ' 42 ',
        price: 3.5,
        active: true,
        tags: ['a', 'b'],
        nested: '{"a":1}',
        _dataset: 'file.csv',
        _source: 's3://bucket/file.csv',
        _data_source: 's3_csv',
        _task_id: 'task-1',
        _record_number: 7,
      },
    });
  });

  it('skips a record whose text is empty after sanitising', () => {
    expect(prepareRecord({ id: '1', formatted_text: '<p> </p>' }, 1, context)).toEqual({
      kind: 'skip',
      recordNumber: 1,
      reason: 'empty_text',
    });
  });

  it('fails a record without an id, or with an id too long for Pinecone', () => {
    expect(prepareRecord({ id: '  ', formatted_text: 'x' }, 3, context)).toMatchObject({
      kind: 'fail',
      recordNumber: 3,
      message: expect.stringContaining('"id" is empty'),
    });
    expect(prepareRecord({ id: 'x'.repeat(513), formatted_text: 'x' }, 4, context)).toMatchObject({
      kind: 'fail',
      message: expect.stringContaining('at most 512'),
    });
  });

  it('derives a stable id from the source and the row when there is no id column', () => {
    const noIds = { ...context, hasIdColumn: false };
    const a = prepareRecord({ formatted_text: 'same' }, 1, noIds);
    const b = prepareRecord({ formatted_text: 'same' }, 9, noIds);
    const other = prepareRecord({ formatted_text: 'same' }, 1, {
      ...noIds,
      sourceUri: 's3://bucket/other.csv',
      idScope: 's3://bucket/other.csv',
    });
    expect(a.kind === 'embed' && b.kind === 'embed' && a.id === b.id).toBe(true);
    expect(other.kind === 'embed' && a.kind === 'embed' && other.id !== a.id).toBe(true);
  });

  it('skips rows dated before start_date and fails rows without a readable date', () => {
    const dated = { ...context, startDate: '2025-02-01' };
    expect(prepareRecord({ id: '1', formatted_text: 'x', date: '2025-01-31T23:00:00Z' }, 1, dated)).toMatchObject({
      kind: 'skip',
      reason: 'before_start_date',
    });
    expect(prepareRecord({ id: '1', formatted_text: 'x', date: '2025-02-01' }, 1, dated)).toMatchObject({ kind: 'embed' });
    expect(prepareRecord({ id: '1', formatted_text: 'x', date: 'soon' }, 1, dated)).toMatchObject({
      kind: 'fail',
      message: expect.stringContaining('not a date'),
    });
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

describe('embeddingKey and metadataHash', () => {
  const metadata = {
    text: 'Red shoes',
    category: 'outdoor',
    price: 3.5,
    _dataset: 'catalog',
    _source: 's3://b/a.csv',
    _data_source: 's3_csv',
    _task_id: 'task-1',
    _record_number: 7,
  };

  it('an embedding depends on the exact input, the model and the dimensions only', () => {
    const key = embeddingKey('Red shoes', 'text-embedding-3-small', 1536);
    const variants = [
      embeddingKey('Red shoes!', 'text-embedding-3-small', 1536),
      embeddingKey('Red shoes', 'text-embedding-3-large', 1536),
      embeddingKey('Red shoes', 'text-embedding-3-small', 512),
    ];
    expect(new Set([key, ...variants]).size).toBe(4);
    expect(embeddingKey('Red shoes', 'text-embedding-3-small', 1536)).toBe(key);
  });

  it('ignores provenance (source, data source, task, record number) and the order of the keys', () => {
    const reordered = Object.fromEntries(Object.entries(metadata).reverse()) as typeof metadata;
    const elsewhere = { ...metadata, _source: 's3://b/other-day.csv', _data_source: 'metabase', _task_id: 'task-2', _record_number: 9 };
    expect(metadataHash(elsewhere)).toBe(metadataHash(metadata));
    expect(metadataHash(reordered)).toBe(metadataHash(metadata));
  });

  it('changes with any business value, the stored text or the dataset', () => {
    const variants = [
      metadataHash({ ...metadata, category: 'kitchen' }),
      metadataHash({ ...metadata, price: 3.51 }),
      metadataHash({ ...metadata, text: 'Red shoes!' }),
      metadataHash({ ...metadata, _dataset: 'archive' }),
      metadataHash({ ...metadata, extra: true }),
    ];
    expect(new Set([metadataHash(metadata), ...variants]).size).toBe(variants.length + 1);
  });
});

describe('decideByStoredState', () => {
  const current = { inputHash: 'i1', metadataHash: 'm1' };

  it('embeds a record never written, or whose input changed since', () => {
    expect(decideByStoredState(current, undefined, 'task-1', false)).toBe('embed');
    expect(decideByStoredState(current, { inputHash: 'i0', metadataHash: 'm1', taskId: 'task-0' }, 'task-1', false)).toBe('embed');
    expect(decideByStoredState(current, { inputHash: 'i0', metadataHash: 'm1', taskId: 'task-1' }, 'task-1', false)).toBe('embed');
  });

  it('updates only the metadata when the input is the same and the business metadata is not', () => {
    expect(decideByStoredState(current, { inputHash: 'i1', metadataHash: 'm0', taskId: 'task-0' }, 'task-1', false)).toBe(
      'update_metadata',
    );
  });

  it('skips as unchanged a record another task wrote as it is, unless forced', () => {
    expect(decideByStoredState(current, { inputHash: 'i1', metadataHash: 'm1', taskId: 'task-0', tokens: 5 }, 'task-1', false)).toBe(
      'unchanged',
    );
    expect(decideByStoredState(current, { inputHash: 'i1', metadataHash: 'm1' }, 'task-1', false)).toBe('unchanged');
    expect(decideByStoredState(current, { inputHash: 'i1', metadataHash: 'm1', taskId: 'task-0' }, 'task-1', true)).toBe('embed');
    expect(decideByStoredState(current, { inputHash: 'i1', metadataHash: 'm0', taskId: 'task-0' }, 'task-1', true)).toBe('embed');
  });

  it('counts as done what this task already wrote as it is, forced or not: a retry never pays twice', () => {
    expect(decideByStoredState(current, { inputHash: 'i1', metadataHash: 'm1', taskId: 'task-1', tokens: 5 }, 'task-1', false)).toBe(
      'done',
    );
    expect(decideByStoredState(current, { inputHash: 'i1', metadataHash: 'm1', taskId: 'task-1', tokens: 5 }, 'task-1', true)).toBe('done');
  });

  it('embeds again an id whose vector a tombstone deleted', () => {
    expect(decideByStoredState(current, { inputHash: '', metadataHash: '', taskId: 'task-0', write: 'delete' }, 'task-1', false)).toBe(
      'embed',
    );
  });
});

describe('tombstones', () => {
  it.each(['true', 'TRUE', '1', 'yes', 'Yes', '2025-06-03', '2025-06-03T10:00:00Z', '06/03/2025'])('%s marks a row deleted', (value) => {
    expect(isTombstone(value)).toBe(true);
    expect(prepareRecord({ id: 'a', formatted_text: 'text', _deleted: value }, 3, context)).toEqual({
      kind: 'delete',
      recordNumber: 3,
      id: 'a',
    });
  });

  it.each(['', 'false', '0', 'no', '42', null, undefined])('%s keeps the row', (value) => {
    expect(isTombstone(value)).toBe(false);
    const prepared = prepareRecord({ id: 'a', formatted_text: 'text', _deleted: value }, 3, context);
    expect(prepared).toMatchObject({ kind: 'embed', id: 'a' });
    // The deletion column is bookkeeping, not metadata.
    expect(prepared.kind === 'embed' && '_deleted' in prepared.metadata).toBe(false);
  });

  it('needs an id column to name what it deletes', () => {
    const prepared = prepareRecord({ formatted_text: 'text', _deleted: 'true' }, 3, { ...context, hasIdColumn: false });
    expect(prepared).toMatchObject({ kind: 'fail', message: expect.stringMatching(/needs an id column/) });
  });
});

describe('hashed ids (no id column)', () => {
  const row = { formatted_text: 'same row', category: 'a' };
  const idOf = (scope: string) => {
    const prepared = prepareRecord(row, 1, { ...context, hasIdColumn: false, idScope: scope });
    return prepared.kind === 'embed' ? prepared.id : undefined;
  };

  it('are stable within their scope and differ across scopes', () => {
    expect(idOf('dataset:catalog')).toBe(idOf('dataset:catalog'));
    expect(idOf('dataset:catalog')).not.toBe(idOf('s3://bucket/other.csv'));
  });
});
