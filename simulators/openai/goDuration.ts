/** Formats milliseconds as Go's time.Duration prints them, as OpenAI's reset headers do: `6m0s`, `1.5s`, `120ms`. */
export function formatGoDuration(ms: number): string {
  const total = Math.ceil(ms);
  if (total <= 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = `${String((total % 60_000) / 1000)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}
