import { openDB, type IDBPDatabase } from 'idb';
import type { KeyStore } from './key-store.ts';

const STORE = 'keys';

/**
 * A KeyStore in the browser's IndexedDB. CryptoKeys are stored as CryptoKeys (structured
 * clone), so a non-extractable private key stays non-extractable: script on the page can use
 * it but never read it out.
 */
export class IndexedDbKeyStore implements KeyStore {
  readonly #db: Promise<IDBPDatabase>;

  /** Opens (creating if needed) the database `name`; one per browser profile is enough. */
  constructor(name = 'securechat') {
    this.#db = openDB(name, 1, {
      upgrade(db) {
        db.createObjectStore(STORE);
      },
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await (await this.#db).get(STORE, key)) as T | undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    await (await this.#db).put(STORE, value, key);
  }

  async setMany(entries: readonly (readonly [key: string, value: unknown])[]): Promise<void> {
    // One transaction: IndexedDB commits all of its writes or none. A failed write aborts it;
    // a value that cannot be stored throws before its write starts, so it is aborted here.
    const tx = (await this.#db).transaction(STORE, 'readwrite');
    const writes: Promise<unknown>[] = [];
    try {
      for (const [key, value] of entries) writes.push(tx.store.put(value, key));
    } catch (error) {
      tx.abort();
      await Promise.allSettled([...writes, tx.done]);
      throw error;
    }
    await Promise.all([...writes, tx.done]);
  }
  async delete(key: string): Promise<void> {
    await (await this.#db).delete(STORE, key);
  }
  async keys(prefix: string): Promise<string[]> {
    // Every key that starts with `prefix` sorts between it and prefix + U+FFFF.
    const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    return (await (await this.#db).getAllKeys(STORE, range)).map(String);
  }

  /** Closes the database (tests, sign-out). */
  async close(): Promise<void> {
    (await this.#db).close();
  }
}
