/**
 * A small SVG a person can look at: for each measured mode, the tokens billed so far against the
 * budget (TPM/60 × t), tokens billed per second against the budget line, and the seconds in which
 * 429s were answered. No dependencies.
 */

export interface Series {
  label: string;
  colour: string;
  /** Samples: seconds since the run started, cumulative tokens billed, embedding requests and 429s among them. */
  samples: { t: number; tokens: number; requests: number; rateLimited: number }[];
}

const WIDTH = 780;
const PANEL_HEIGHT = 220;
const LEFT = 80;
const RIGHT = 20;
const BUDGET_COLOUR = '#d62728';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const number = (value: number) => Math.round(value).toLocaleString('en-US');

/** Tokens per second over a sliding window of `windowSeconds`. */
function rates(samples: Series['samples'], windowSeconds: number): { t: number; value: number }[] {
  const out: { t: number; value: number }[] = [];
  let from = 0;
  for (let i = 1; i < samples.length; i++) {
    while (samples[i].t - samples[from + 1].t >= windowSeconds && from < i - 1) from++;
    const dt = samples[i].t - samples[from].t;
    if (dt > 0) out.push({ t: samples[i].t, value: (samples[i].tokens - samples[from].tokens) / dt });
  }
  return out;
}

interface Panel {
  top: number;
  title: string;
  maxT: number;
  maxY: number;
  lines: { colour: string; points: { t: number; value: number }[]; dashed?: boolean }[];
}

function panel({ top, title, maxT, maxY, lines }: Panel): string[] {
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = PANEL_HEIGHT - 50;
  const x = (t: number) => LEFT + (t / maxT) * plotW;
  const y = (v: number) => top + 20 + plotH - (Math.min(v, maxY) / maxY) * plotH;
  const parts = [`<text x="${LEFT}" y="${top + 12}" font-weight="bold">${escape(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const value = (maxY / 4) * i;
    parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${number(value)}</text>`);
    const t = (maxT / 4) * i;
    parts.push(`<text x="${x(t).toFixed(1)}" y="${top + 20 + plotH + 16}" text-anchor="middle">${t.toFixed(0)} s</text>`);
  }
  parts.push(`<line x1="${LEFT}" x2="${LEFT}" y1="${top + 20}" y2="${top + 20 + plotH}" stroke="black"/>`);
  parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${top + 20 + plotH}" y2="${top + 20 + plotH}" stroke="black"/>`);
  for (const line of lines) {
    if (!line.points.length) continue;
    const path = line.points.map((point, i) => `${i ? 'L' : 'M'}${x(point.t).toFixed(1)},${y(point.value).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${line.colour}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
  }
  return parts;
}

export function renderChart(options: {
  title: string;
  budgetTokensPerSecond: number;
  series: Series[];
  notes: string[];
  windowSeconds?: number;
}): string {
  const budget = options.budgetTokensPerSecond;
  const maxT = Math.max(1, ...options.series.flatMap((series) => series.samples.map((sample) => sample.t)));
  // Long runs send big requests seconds apart: a wider window shows the rate, not the requests.
  const windowSeconds = options.windowSeconds ?? Math.round(Math.min(30, Math.max(5, maxT / 15)));
  const rateLines = options.series.map((series) => ({ colour: series.colour, points: rates(series.samples, windowSeconds) }));
  const maxRate = Math.max(budget * 1.25, ...rateLines.flatMap((line) => line.points.map((point) => point.value))) * 1.05;
  const maxTokens = Math.max(budget * maxT, ...options.series.flatMap((series) => series.samples.map((sample) => sample.tokens))) * 1.05;
  const legendTop = 40 + 2 * PANEL_HEIGHT + 10;
  const height = legendTop + options.series.length * 18 + 30 + options.notes.length * 14 + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(options.title)}</text>`,
    ...panel({
      top: 40,
      title: 'Tokens billed so far (dashed: the budget, TPM/60 × seconds)',
      maxT,
      maxY: maxTokens,
      lines: [
        {
          colour: BUDGET_COLOUR,
          dashed: true,
          points: [
            { t: 0, value: 0 },
            { t: maxT, value: budget * maxT },
          ],
        },
        ...options.series.map((series) => ({
          colour: series.colour,
          points: series.samples.map((sample) => ({ t: sample.t, value: sample.tokens })),
        })),
      ],
    }),
    ...panel({
      top: 40 + PANEL_HEIGHT,
      title: `Tokens billed per second, ${windowSeconds} s window (dashed: the budget, ${number(budget)}/s); ticks below: seconds with 429s`,
      maxT,
      maxY: maxRate,
      lines: [
        {
          colour: BUDGET_COLOUR,
          dashed: true,
          points: [
            { t: 0, value: budget },
            { t: maxT, value: budget },
          ],
        },
        ...rateLines,
      ],
    }),
  ];
  const plotW = WIDTH - LEFT - RIGHT;
  const axisY = 40 + PANEL_HEIGHT + 20 + PANEL_HEIGHT - 50;
  options.series.forEach((series, index) => {
    const samples = series.samples;
    for (let i = 1; i < samples.length; i++) {
      if (samples[i].rateLimited > samples[i - 1].rateLimited) {
        const x = (LEFT + (samples[i].t / maxT) * plotW).toFixed(1);
        parts.push(
          `<line x1="${x}" x2="${x}" y1="${axisY + 20 + index * 6}" y2="${axisY + 25 + index * 6}" stroke="${series.colour}" stroke-width="2"/>`,
        );
      }
    }
    const legendY = legendTop + 20 + index * 18;
    const drew = samples.length ? samples[samples.length - 1].rateLimited : 0;
    parts.push(`<rect x="${LEFT}" y="${legendY - 8}" width="16" height="4" fill="${series.colour}"/>`);
    parts.push(`<text x="${LEFT + 22}" y="${legendY - 3}">${escape(series.label)}; ${number(drew)} answered 429</text>`);
  });
  options.notes.forEach((note, i) => {
    parts.push(`<text x="${LEFT}" y="${legendTop + 30 + options.series.length * 18 + i * 14}" fill="#555">${escape(note)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
