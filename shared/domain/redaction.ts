/**
 * Credentials out of text that leaves the process (log lines, task errors): the values we know
 * (our keys), and whatever has the shape of a provider key or of a header carrying one, since a
 * provider may quote a key in its own error (OpenAI's 401 shows a key's start and end:
 * `sk-*****…Qx4z`), and a client's error may quote the request it sent.
 */

export const REDACTED = '[redacted]';

/** Shorter values are not taken for secrets: replacing them would maim ordinary words. */
const MIN_KNOWN_LENGTH = 8;

const SHAPES: [RegExp, string][] = [
  // Header values, quoted or not: `authorization: Bearer …`, `"api-key":"…"`, `x-api-key=…`.
  [/((?:authorization|x-api-key|api-key)["']?\s*[:=]\s*["']?)(?:bearer\s+)?[^\s"'\\,;}]+/gi, `$1${REDACTED}`],
  [/\b(bearer\s+)[A-Za-z0-9._~+/=*-]{8,}/gi, `$1${REDACTED}`],
  // OpenAI keys (sk-…, sk-proj-…: long), whole or masked with * or •.
  [/\bsk-(?:[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]*[*•][A-Za-z0-9_*•-]*)/g, `sk-${REDACTED}`],
  // Pinecone keys.
  [/\bpcsk_[A-Za-z0-9_]{20,}/g, `pcsk_${REDACTED}`],
  // Metabase API keys: base64 after mb_, so with digits and capitals, unlike a column named mb_revenue_total.
  [/\bmb_(?=[A-Za-z0-9_=+/-]*[0-9])(?=[A-Za-z0-9_=+/-]*[A-Z])[A-Za-z0-9_=+/-]{20,}/g, `mb_${REDACTED}`],
];

export function redactSecrets(text: string, known: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const value of known) if (value && value.length >= MIN_KNOWN_LENGTH) out = out.split(value).join(REDACTED);
  for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
  return out;
}
