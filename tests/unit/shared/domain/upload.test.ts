/** POST /uploads: the file name the S3 trigger will take, an empty file refused, and a key unique per upload. */
import { checkUploadBody, parseUploadName, UPLOAD_LIMITS, uploadKey } from '../../../../shared/domain/upload';
import { InvalidInputError, UnusableInputError } from '../../../../shared/errors';

describe('parseUploadName', () => {
  it.each(['people.csv', 'Übersicht 2025 (Q1).csv', 'export_v2-final.csv', '1.csv'])('takes %s', (name) => {
    expect(parseUploadName({ name }, '.csv')).toBe(name);
  });

  it.each([
    ['no name', {}, /name is required/],
    ['a name the trigger ignores', { name: 'people.txt' }, /name must end in \.csv/],
    ['another case of the suffix (S3 suffixes are exact)', { name: 'people.CSV' }, /name must end in \.csv/],
    ['a path', { name: 'a/b.csv' }, /letters, digits, spaces/],
    ['a parent folder', { name: '../b.csv' }, /letters, digits, spaces/],
    ['a hidden file', { name: '.csv' }, /starting with a letter or digit/],
    ['a control character', { name: 'a\u0000.csv' }, /letters, digits, spaces/],
    ['a name over the limit', { name: `${'a'.repeat(UPLOAD_LIMITS.maxNameLength)}.csv` }, /at most 200/],
    ['an unknown parameter', { name: 'a.csv', dataset: 'x' }, /unknown parameter "dataset"/],
  ])('refuses %s, naming the parameter', (_, params, message) => {
    expect(() => parseUploadName(params, '.csv')).toThrow(message);
    expect(() => parseUploadName(params, '.csv')).toThrow(InvalidInputError);
  });
});

describe('checkUploadBody', () => {
  it('refuses an empty file, takes a header alone', () => {
    expect(() => checkUploadBody('')).toThrow(UnusableInputError);
    expect(() => checkUploadBody('id,formatted_text\n')).not.toThrow();
  });
});

describe('uploadKey', () => {
  it('puts the file directly under the prefix, after the time and the nonce', () => {
    expect(uploadKey('incoming/', 'people.csv', new Date('2026-06-01T10:15:30.123Z'), '3fa2c1d0')).toBe(
      'incoming/20260601T101530Z-3fa2c1d0-people.csv',
    );
  });
});
