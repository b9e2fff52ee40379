/**
 * Pinecone's upsert request (`{"vectors":[{"id","values","metadata"}],"namespace"}`) as JSON
 * bytes, written straight from the vectors' Float32Arrays. The client would widen each float32
 * to a double (Array.from) and let JSON.stringify print it with the 17 digits a double needs:
 * 32 KB of text per 1536-dimension vector, and in the benchmark with an unlimited budget the
 * largest single use of the embedder's CPU. A float32 needs 9 significant digits to come back
 * exactly (FLT_DECIMAL_DIG), so each value is written with 9 (trailing zeros dropped): ~21 KB
 * per vector, in a quarter of the time, and lossless: Pinecone stores float32s, and the nearest
 * float32 to each number written is the value itself (checked per value as it is written).
 */
import type { VectorRecord } from '../../ports';

/** Exact powers of ten (up to 1e22 a double holds them exactly). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** 10^-z for the fixed-notation range, 0.1 down to 1e-7. */
const NEGATIVE_POW10 = [1, 0.1, 0.01, 0.001, 1e-4, 1e-5, 1e-6, 1e-7];
const SIGNIFICANT_DIGITS = 9;
/** A value's text is at most `-0.000000` and 9 digits (18 bytes), or toPrecision's `-1.23456789e-38` (15). */
const MAX_VALUE_BYTES = 18;

const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

/**
 * Writes each value (a float32) from `at` on, comma-separated, as a JSON number of at most 9
 * significant digits whose nearest float32 is the value, and returns where it ended. One loop,
 * no call per value: a double passed to a function that is not inlined is boxed on the heap,
 * 16 bytes a value, which made this the largest source of garbage. A value that is not finite
 * becomes `null`, which Pinecone refuses as it would refuse it from the client.
 */
export function writeFloat32s(out: Buffer, start: number, values: ArrayLike<number>): number {
  let at = start;
  for (let j = 0; j < values.length; j++) {
    if (j > 0) out[at++] = COMMA;
    const value = values[j];
    const magnitude = Math.abs(value);
    // Embedding components are below 1 and rarely below 1e-7: fixed notation, digits from an integer.
    if (magnitude < 1 && magnitude >= 1e-7) {
      let zeros = 1;
      while (magnitude < NEGATIVE_POW10[zeros]) zeros++;
      // magnitude = 0.(zeros - 1 zeros)ddddddddd: its 9 digits as one integer below 1e9 (an int32).
      let scale = SIGNIFICANT_DIGITS - 1 + zeros;
      let digits = Math.round(magnitude * POW10[scale]) | 0;
      if (digits >= 1e9) {
        // Rounded up to the next power of ten: one digit less after the point.
        zeros -= 1;
        scale -= 1;
        digits = Math.round(magnitude * POW10[scale]) | 0;
      }
      if (zeros >= 1 && Math.fround(digits / POW10[scale]) === magnitude) {
        if (value < 0) out[at++] = MINUS;
        out[at++] = ZERO;
        out[at++] = DOT;
        for (let i = 1; i < zeros; i++) out[at++] = ZERO;
        let length = SIGNIFICANT_DIGITS;
        while (digits % 10 === 0) {
          digits = (digits / 10) | 0;
          length--;
        }
        const end = at + length;
        for (let p = end; p > at;) {
          const rest = (digits / 10) | 0;
          out[--p] = ZERO + digits - rest * 10;
          digits = rest;
        }
        at = end;
        continue;
      }
    }
    at = writeOther(out, at, value);
  }
  return at;
}

/** Zero (its sign kept), values outside the fixed range or refused by its check (V8's correctly rounded 9 digits), and `null`. */
function writeOther(out: Buffer, at: number, value: number): number {
  if (value === 0) return at + out.write(Object.is(value, -0) ? '-0' : '0', at, 'latin1');
  if (!Number.isFinite(value)) return at + out.write('null', at, 'latin1');
  return at + out.write(value.toPrecision(SIGNIFICANT_DIGITS), at, 'latin1');
}

/** The upsert request's body; `namespace` is left out when undefined (Pinecone's default namespace). */
export function upsertBody(records: readonly VectorRecord[], namespace: string | undefined): Buffer {
  const heads = records.map(({ id, metadata }) =>
    Object.keys(metadata).length > 0
      ? `{"id":${JSON.stringify(id)},"metadata":${JSON.stringify(metadata)},"values":[`
      : `{"id":${JSON.stringify(id)},"values":[`,
  );
  const tail = namespace === undefined ? ']}' : `],"namespace":${JSON.stringify(namespace)}}`;
  let size = 12 + Buffer.byteLength(tail);
  records.forEach((record, i) => (size += Buffer.byteLength(heads[i]) + record.values.length * (MAX_VALUE_BYTES + 1) + 3));
  const out = Buffer.allocUnsafe(size);
  let at = out.write('{"vectors":[', 0, 'latin1');
  records.forEach(({ values }, i) => {
    if (i > 0) out[at++] = COMMA;
    at += out.write(heads[i], at, 'utf8');
    at = writeFloat32s(out, at, values);
    at += out.write(']}', at, 'latin1');
  });
  at += out.write(tail, at, 'utf8');
  return out.subarray(0, at);
}
