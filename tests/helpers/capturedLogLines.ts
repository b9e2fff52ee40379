/**
 * The JSON log lines the product writes to stdout and stderr while a test runs, parsed, without
 * letting them through (Powertools' Logger writes there through its own Console).
 */
export interface CapturedLogLines {
  /** Every JSON line written since the capture started or was last cleared; other output is left out. */
  readonly lines: Record<string, unknown>[];
  clear(): void;
  restore(): void;
}

export function captureLogLines(): CapturedLogLines {
  const lines: Record<string, unknown>[] = [];
  const restores = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write;
    stream.write = ((chunk: string | Uint8Array) => {
      for (const line of Buffer.from(chunk).toString('utf8').split('\n')) {
        if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = original;
    };
  });
  return {
    lines,
    clear: () => void lines.splice(0),
    restore: () => restores.forEach((restore) => restore()),
  };
}
