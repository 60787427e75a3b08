/**
 * Where a client keeps its keys and local state. Values are structured-clone data: plain
 * objects, numbers, strings, Uint8Arrays and CryptoKeys (which stay non-extractable in
 * IndexedDB). Implementations: {@link MemoryKeyStore} (Node, tests, bots), `IndexedDbKeyStore`
 * (browsers), or your own (a file, a secret manager).
 */
export interface KeyStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /**
   * Writes every entry, or none if it fails: a device stopped in the middle must not find some
   * written and others not (an IndexedDB transaction, a database transaction).
   */
  setMany(entries: readonly (readonly [key: string, value: unknown])[]): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix`, in ascending order. */
  keys(prefix: string): Promise<string[]>;
}

/**
 * A KeyStore in memory: everything is lost when the process ends. Values are copied in and out,
 * as IndexedDB copies them, so a change to an object after it was written is not stored.
 */
export class MemoryKeyStore implements KeyStore {
  readonly #data = new Map<string, unknown>();

  async get<T>(key: string): Promise<T | undefined> {
    return structuredClone(this.#data.get(key)) as T | undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    this.#data.set(key, structuredClone(value));
  }
  async setMany(entries: readonly (readonly [key: string, value: unknown])[]): Promise<void> {
    // Every value is copied before any is written: a value that cannot be copied writes none.
    const copies = entries.map(([key, value]) => [key, structuredClone(value)] as const);
    for (const [key, value] of copies) this.#data.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.#data.delete(key);
  }
  async keys(prefix: string): Promise<string[]> {
    return [...this.#data.keys()].filter((key) => key.startsWith(prefix)).sort();
  }
}
