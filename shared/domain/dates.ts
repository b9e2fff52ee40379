/** Calendar dates as the API takes them: YYYY-MM-DD, in UTC. */

export function isValidDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

/** The UTC calendar date of an instant, `days` earlier. */
export function dateDaysBefore(instant: string, days: number): string {
  const date = new Date(Date.parse(instant) - days * 86_400_000);
  return date.toISOString().slice(0, 10);
}
