import { fit, formatDuration, formatPercent, formatRate, formatTime, formatUsd, renderTable } from '../../../cli/format';

describe('CLI formatting', () => {
  it.each([
    [null, '--'],
    [0, '0s'],
    [0.84, '0.8s'],
    [9, '9s'],
    [45.4, '45s'],
    [59.6, '1m 00s'],
    [125, '2m 05s'],
    [3725, '1h 02m'],
    [-1, '--'],
  ])('duration %p is %p', (seconds, text) => expect(formatDuration(seconds)).toBe(text));

  it('formats rates, shares, dollars and times', () => {
    expect([formatRate(null), formatRate(2.44), formatRate(1234.6)]).toEqual(['--', '2.4', '1,235']);
    expect([formatPercent(null), formatPercent(0.999), formatPercent(1)]).toEqual(['--', '99%', '100%']);
    expect([formatUsd(0.0000012), formatUsd(1.5)]).toEqual(['$0.00000120', '$1.50']);
    expect(formatTime('2026-06-01T12:34:56.789Z')).toBe('2026-06-01 12:34:56');
  });

  it('cuts lines to a width and aligns tables', () => {
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('abc', 4)).toBe('abc');
    expect(renderTable(['A', 'LONGER'], [['wide cell', 'x']])).toBe('A          LONGER\nwide cell  x');
  });
});
