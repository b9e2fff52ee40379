/** Credentials out of text: known values, provider key shapes (whole or masked), header values; ordinary words kept. */
import { redactSecrets } from '../../../../shared/domain/redaction';

describe('redactSecrets', () => {
  it.each([
    [
      'Incorrect API key provided: sk-**********************************MvQx. You can',
      'Incorrect API key provided: sk-[redacted]. You can',
    ],
    ['key sk-proj-Qm7vT2xRk9LpZ4wN8cHf3Jd6Ys1Ab5Ge0Ui in use', 'key sk-[redacted] in use'],
    ['pcsk_4Hq2Zt_9XmRvLw7KcP3nYfB8sJd5TgA1eUoNi rejected', 'pcsk_[redacted] rejected'],
    ['with mb_Vq3Zr8TnKx5Lw1Hp7Yd2Fg9Jc4Ms6Ab0UeRt= sent', 'with mb_[redacted] sent'],
    ['{"authorization":"Bearer abc.def-ghi","x-api-key":"k3y-value"}', '{"authorization":"[redacted]","x-api-key":"[redacted]"}'],
    ['Api-Key: 1234-5678; next', 'Api-Key: [redacted]; next'],
    ['sent Bearer eyJhbGciOiJIUzI1NiJ9.e30', 'sent Bearer [redacted]'],
  ])('%s', (text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });

  it('redacts the known values wherever they are, and takes no short value for a secret', () => {
    expect(redactSecrets('GET /tasks?key=Lq9Wz3Rt7Xn2Kv5H&x=1', ['Lq9Wz3Rt7Xn2Kv5H', 'abc', undefined])).toBe(
      'GET /tasks?key=[redacted]&x=1',
    );
  });

  it('keeps column names, ids and words that only start like a key', () => {
    const text = 'its columns are: mb_revenue_total, sk-u, sk-lines, pcsk_short, task-id, skip; id sk-1';
    expect(redactSecrets(text)).toBe(text);
  });
});
