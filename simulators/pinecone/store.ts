/** The index's vectors, by namespace and then by id. */
import type { StoredVector } from './types';

/** Stands for an absent or empty namespace. */
export const DEFAULT_NAMESPACE = '__default__';

export function resolveNamespace(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : DEFAULT_NAMESPACE;
}

export class Namespaces {
  private readonly byName = new Map<string, Map<string, StoredVector>>();

  get(name: string): Map<string, StoredVector> | undefined {
    return this.byName.get(name);
  }

  /** The namespace's vectors, an empty namespace made when there is none. */
  open(name: string): Map<string, StoredVector> {
    let vectors = this.byName.get(name);
    if (!vectors) this.byName.set(name, (vectors = new Map()));
    return vectors;
  }

  delete(name: string): void {
    this.byName.delete(name);
  }

  clear(): void {
    this.byName.clear();
  }

  entries(): IterableIterator<[string, Map<string, StoredVector>]> {
    return this.byName.entries();
  }

  /** Names of the namespaces that hold vectors, sorted. */
  names(): string[] {
    return [...this.byName.keys()].filter((name) => (this.byName.get(name)?.size ?? 0) > 0).sort();
  }

  /** Copies, sorted by id, so that a test cannot change what the index holds behind its back. */
  dump(name: string): StoredVector[] {
    return [...(this.byName.get(name)?.values() ?? [])]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((record) => ({
        ...record,
        values: [...record.values],
        ...(record.metadata ? { metadata: structuredClone(record.metadata) } : {}),
      }));
  }
}
