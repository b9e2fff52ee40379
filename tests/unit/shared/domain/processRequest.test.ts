/** `/process` parameters: start_date takes a real date or `auto`, and nothing else. */
import { parseProcessRequest } from '../../../../shared/domain/processRequest';
import { InvalidInputError } from '../../../../shared/errors';
import { configWith } from '../../../helpers/fakes';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const config = configWith({ METABASE_QUESTION_ID: '42' });
const parse = (params: Record<string, unknown>) => parseProcessRequest(params, config, NOW);

describe('parseProcessRequest: start_date', () => {
  it('passes auto on, for the planner to settle from the watermark', () => {
    expect(parse({ start_date: 'auto' })).toMatchObject({ source: { type: 'metabase', questionId: 42 }, startDate: 'auto' });
    expect(parse({ data_source: 's3_csv', s3_key: 'a.csv', start_date: 'auto' })).toMatchObject({ startDate: 'auto' });
  });

  it.each(['AUTO', 'yesterday', '2026-02-30', '2026-1-5'])('answers 400 naming start_date for %s', (startDate) => {
    expect(() => parse({ start_date: startDate })).toThrow(
      expect.objectContaining({
        constructor: InvalidInputError,
        field: 'start_date',
        message: expect.stringMatching(/real date as YYYY-MM-DD, or auto/),
      }),
    );
  });

  it('refuses a Metabase full sync with start_date=auto: it would delete what an earlier day holds', () => {
    expect(() => parse({ start_date: 'auto', sync: 'full' })).toThrow(expect.objectContaining({ field: 'sync' }));
  });
});
