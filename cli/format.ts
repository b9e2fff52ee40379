/** Numbers, durations and tables as the CLI prints them. Pure. */

export const formatCount = (n: number): string => n.toLocaleString('en-US');

/** `0.8s`, `45s`, `2m 05s`, `1h 02m`; `--` when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '--';
  if (seconds < 9.95) return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${pad(whole % 60)}s`;
  return `${Math.floor(whole / 3600)}h ${pad(Math.floor((whole % 3600) / 60))}m`;
}

/** Records a second: one decimal under ten, whole numbers above; `--` when unknown. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return '--';
  return perSecond < 10 ? perSecond.toFixed(1) : formatCount(Math.round(perSecond));
}

/** `42%`, or `--` while the total is unknown. */
export const formatPercent = (fraction: number | null): string => (fraction === null ? '--' : `${Math.floor(fraction * 100)}%`);

/** US dollars: cents, or eight decimals for the fractions of a cent small runs cost. */
export const formatUsd = (usd: number): string => `$${usd >= 0.01 ? usd.toFixed(2) : usd.toFixed(8)}`;

/** `2026-06-01 12:34:56` (UTC) from an ISO timestamp. */
export const formatTime = (iso: string | null): string => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '--');

/** Cuts a line to a width, marking the cut. */
export const fit = (text: string, width: number): string => (text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`);

/** Left-aligned columns two spaces apart. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  return [headers, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
