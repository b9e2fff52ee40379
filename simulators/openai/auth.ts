/** The `Authorization: Bearer` check, with OpenAI's 401 wording. */
import { apiError } from './errors';

/** Accepts any key (or none) when `apiKey` is undefined. */
export function authenticate(header: string | undefined, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const key = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
  if (!key) {
    throw apiError(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      { code: 'invalid_api_key' },
    );
  }
  if (key !== apiKey) {
    throw apiError(
      401,
      `Incorrect API key provided: ${redact(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      {
        code: 'invalid_api_key',
      },
    );
  }
}

/** Shows a key the way OpenAI's 401 does: its start and end only. */
function redact(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}
