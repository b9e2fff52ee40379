import { bar, barLine, errorLines, plainLine, statusBlock, summaryLine } from '../../../cli/progress';
import { completed, taskDetail } from './taskFixtures';

describe('task progress as the CLI prints it', () => {
  it('draws a bar of the share done', () => {
    expect(bar(0, 4)).toBe('░░░░');
    expect(bar(0.5, 4)).toBe('██░░');
    expect(bar(1.2, 4)).toBe('████');
  });

  it('fits the terminal line with state, bar, share, records, rate and ETA', () => {
    const rest = '   52%  2,600/5,000 records  412 rec/s  ETA 6s';
    expect(barLine(taskDetail(), 120)).toBe(`RUNNING   ${bar(0.52, 40)}${rest}`);
    expect(barLine(taskDetail(), 80)).toBe(`RUNNING   ${bar(0.52, 80 - 1 - 10 - rest.length)}${rest}`);
    // Narrower than the shortest bar: cut, never wrapped.
    expect(barLine(taskDetail(), 40)).toHaveLength(39);
  });

  it('says when the total is not known yet', () => {
    const planning = taskDetail({
      progress: null,
      records: { ...taskDetail().records, total: null },
      records_per_second: null,
      eta_seconds: null,
    });
    expect(plainLine(planning)).toBe('RUNNING 2,600/? records (planning)');
    expect(barLine(planning, 100)).toMatch(/-- {2}2,600\/\? records {2}-- rec\/s {2}ETA --$/);
  });

  it('prints a plain line for logs', () => {
    expect(plainLine(taskDetail())).toBe('RUNNING 52% 2,600/5,000 records, 412 records/s, ETA 6s');
  });

  it('sums up how it ended, how long it took, and the first errors', () => {
    expect(summaryLine(completed())).toBe('COMPLETED 5,000/5,000 records: 4,900 processed, 100 skipped, 0 failed in 12s');
    const partial = completed({ status: 'PARTIAL', errors: ['record 2: bad', 'record 9: bad'], error_count: 8 });
    expect(errorLines(partial)).toEqual([
      '  error: record 2: bad',
      '  error: record 9: bad',
      '  … 6 more: vectordb-catchup status s3-abc --json',
    ]);
  });

  it('shows the status block, one fact a line', () => {
    const block = statusBlock(completed({ warnings: ['start_date not applied'] }));
    expect(block.split('\n')).toEqual([
      'task      s3-abc',
      'status    COMPLETED',
      'source    s3_csv incoming/products.csv',
      'dataset   incoming/products.csv   namespace __default__',
      'records   5,000/5,000 records: 4,900 processed, 100 skipped, 0 failed',
      'chunks    5/5, 0 failed',
      'rate      412 records/s, ETA 0s',
      'tokens    30,000 ($0.00060000 spent)',
      'created   2026-06-01 12:00:00',
      'started   2026-06-01 12:00:01',
      'ended     2026-06-01 12:00:13',
      'warning   start_date not applied',
    ]);
  });
});
