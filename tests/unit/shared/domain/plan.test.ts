/**
 * A source's date column: the one the request or DATE_COLUMN names, else the first usual one the
 * source has; start_date is applied on it, skipped with a warning when there is none, and a named
 * column the source lacks fails the task. Every chunk carries the column resolved.
 */
import { checkDateColumn, chunkCommon, csvHeaderValidator, resolveDateColumn, startDateWarning } from '../../../../shared/domain/plan';
import type { TaskRequest } from '../../../../shared/domain/task';
import { SourceError } from '../../../../shared/errors';
import { aTask, configWith } from '../../../helpers/fakes';

const csvRequest: TaskRequest = {
  schemaVersion: 1,
  taskId: 't-1',
  source: { type: 's3_csv', key: 'uploads/a.csv' },
  startDate: '2025-01-01',
};
const defaults = configWith();
const URI = 's3://test-bucket/uploads/a.csv';

describe('resolveDateColumn', () => {
  it.each([
    [['id', 'formatted_text', 'date', 'created_at'], 'date'],
    [['id', 'formatted_text', 'created_at'], 'created_at'],
    [['timestamp', 'modified_at', 'updated_at', 'formatted_text'], 'updated_at'],
    [['formatted_text', 'modified_at', 'timestamp'], 'modified_at'],
    [['formatted_text', 'timestamp'], 'timestamp'],
  ])('takes the first usual date column the source has, in the order date, created_at, …: %j → %s', (header, expected) => {
    expect(resolveDateColumn(header, csvRequest, defaults)).toEqual({ name: expected, named: false, present: true });
  });

  it("finds it in any case and keeps the source's spelling", () => {
    expect(resolveDateColumn(['ID', 'Formatted_Text', 'Created_At'], csvRequest, defaults)).toEqual({
      name: 'Created_At',
      named: false,
      present: true,
    });
  });

  it('falls back to the default name, absent, when the source has none of them', () => {
    expect(resolveDateColumn(['id', 'formatted_text', 'published'], csvRequest, defaults)).toEqual({
      name: 'date',
      named: false,
      present: false,
    });
  });

  it("takes the request's date_column as named, present or not, over the usual ones", () => {
    const request: TaskRequest = { ...csvRequest, columns: { date: 'published' } };
    expect(resolveDateColumn(['id', 'created_at', 'published'], request, defaults)).toEqual({
      name: 'published',
      named: true,
      present: true,
    });
    expect(resolveDateColumn(['id', 'created_at'], request, defaults)).toEqual({ name: 'published', named: true, present: false });
  });

  it('takes DATE_COLUMN as named, exactly as spelt, and the request over it', () => {
    const config = configWith({ DATE_COLUMN: 'day' });
    expect(resolveDateColumn(['id', 'created_at'], csvRequest, config)).toEqual({ name: 'day', named: true, present: false });
    expect(resolveDateColumn(['id', 'Day'], csvRequest, config)).toEqual({ name: 'day', named: true, present: false });
    expect(resolveDateColumn(['day', 'when'], { ...csvRequest, columns: { date: 'when' } }, config)).toEqual({
      name: 'when',
      named: true,
      present: true,
    });
  });

  it('takes DATE_COLUMN=date as named, unlike the default of the same name', () => {
    expect(resolveDateColumn(['id', 'created_at'], csvRequest, configWith({ DATE_COLUMN: 'date' }))).toEqual({
      name: 'date',
      named: true,
      present: false,
    });
  });
});

describe('checkDateColumn and startDateWarning', () => {
  it('fails a start_date task on a source without the column named, naming its columns', () => {
    const request: TaskRequest = { ...csvRequest, columns: { date: 'published' } };
    expect(() => checkDateColumn(['id', 'formatted_text', 'created_at'], request, defaults, URI)).toThrow(
      new SourceError(`start_date was given but ${URI} has no date column "published"; its columns are: id, formatted_text, created_at`),
    );
    expect(() => checkDateColumn(['id', 'created_at'], csvRequest, configWith({ DATE_COLUMN: 'day' }), URI)).toThrow(
      /has no date column "day"; its columns are: id, created_at$/,
    );
  });

  it('lets a source without any date column through, with a warning that says start_date was not applied', () => {
    const header = ['id', 'formatted_text'];
    expect(() => checkDateColumn(header, csvRequest, defaults, URI)).not.toThrow();
    expect(startDateWarning(header, csvRequest, defaults, URI)).toBe(
      `start_date 2025-01-01 was not applied: ${URI} has no date column (none of date, created_at, updated_at, modified_at, timestamp), ` +
        'so every row was taken; name its date column with date_column or DATE_COLUMN',
    );
  });

  it('warns of nothing when start_date is applied, not given, or left to Metabase', () => {
    const noDates = ['id', 'formatted_text'];
    expect(startDateWarning(['id', 'created_at'], csvRequest, defaults, URI)).toBeUndefined();
    expect(startDateWarning(noDates, { ...csvRequest, startDate: undefined }, defaults, URI)).toBeUndefined();
    const metabase: TaskRequest = { ...csvRequest, source: { type: 'metabase', questionId: 232 } };
    expect(startDateWarning(noDates, metabase, defaults, 'Metabase question 232')).toBeUndefined();
    expect(() =>
      checkDateColumn(noDates, { ...metabase, columns: { date: 'published' } }, defaults, 'Metabase question 232'),
    ).not.toThrow();
  });

  it('fails nothing for a named column the source lacks when no start_date is given', () => {
    const request: TaskRequest = { ...csvRequest, startDate: undefined, columns: { date: 'published' } };
    expect(() => checkDateColumn(['id', 'formatted_text'], request, defaults, URI)).not.toThrow();
  });

  it('checks the text column before the date column of a CSV header', () => {
    expect(() => csvHeaderValidator(URI, { ...csvRequest, columns: { date: 'published' } }, defaults)(['id', 'body'])).toThrow(
      `${URI} has no text column "formatted_text"; its columns are: id, body`,
    );
    expect(() => csvHeaderValidator(URI, csvRequest, defaults)(['id', 'formatted_text'])).not.toThrow();
  });
});

describe('chunkCommon', () => {
  const task = aTask({ taskId: 't-1', namespace: 'people' });

  it('carries the resolved date column and start_date when the source has the column', () => {
    expect(chunkCommon(task, csvRequest, defaults, ['id', 'formatted_text', 'Created_At'])).toMatchObject({
      startDate: '2025-01-01',
      columns: { text: 'formatted_text', id: 'id', date: 'Created_At', deleted: '_deleted' },
    });
  });

  it('carries no start_date for a source without a date column', () => {
    const common = chunkCommon(task, csvRequest, defaults, ['id', 'formatted_text']);
    expect(common).not.toHaveProperty('startDate');
    expect(common.columns.date).toBe('date');
  });

  it('leaves start_date to a Metabase question', () => {
    const metabase: TaskRequest = { ...csvRequest, source: { type: 'metabase', questionId: 232 } };
    const common = chunkCommon(task, metabase, defaults, ['id', 'formatted_text', 'created_at']);
    expect(common).not.toHaveProperty('startDate');
    expect(common.columns.date).toBe('created_at');
  });
});
