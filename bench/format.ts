/** Numbers as the benchmark prints them: grouped digits, percentages. */
export const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const pct = (value: number, digits = 1) => `${(value * 100).toFixed(digits)}%`;
