import { generateEd25519KeyPair, utf8Encode } from '@securechat/crypto';
import { describe, expect, it } from 'vitest';
import { EncryptingKeyStore, LOCAL_STORE_KEY_NAME } from './key-store-encrypting.ts';
import { IndexedDbKeyStore } from './key-store-idb.ts';
import { decodeValue, encodeValue } from './sealed-value.ts';

const record = {
  seq: 7,
  conversationId: 'c1',
  clientMessageId: 'm1',
  senderUserId: 'u2',
  senderDeviceId: 'd2',
  sentAt: 1_700_000_000_000,
  content: { type: 'text', text: 'meet at the old harbour', replyTo: new Uint8Array([1, 2, 3]) },
  deleted: false,
};

/** Whether `needle` occurs in the bytes of `value` as IndexedDB would hold them, or in its JSON. */
function contains(value: unknown, needle: string): boolean {
  const bytes = utf8Encode(needle);
  const search = (haystack: Uint8Array) =>
    haystack.some((_, i) => bytes.every((b, j) => haystack[i + j] === b));
  if (value instanceof Uint8Array) return search(value);
  if (value && typeof value === 'object')
    return Object.values(value).some((v) => contains(v, needle));
  return typeof value === 'string' && value.includes(needle);
}

describe('EncryptingKeyStore', () => {
  it('round-trips bytes, dates, nested objects and odd numbers through the tagged encoding', () => {
    const value = {
      a: [1, -0, Number.NaN, Infinity, null, undefined, 'x'],
      b: new Uint8Array([0, 255]),
      d: new Date(5),
      o: { a: { b: 'nested keys that look like tags' } },
    };
    const back = decodeValue(encodeValue(value)) as typeof value;
    expect(back.b).toEqual(new Uint8Array([0, 255]));
    expect(back.d).toEqual(new Date(5));
    expect(back.o).toEqual({ a: { b: 'nested keys that look like tags' } });
    expect(back.a.slice(0, 4).map(String)).toEqual(['1', '0', 'NaN', 'Infinity']);
    expect(Object.is(back.a[1], -0)).toBe(true);
    expect(back.a.slice(4)).toEqual([null, undefined, 'x']);
    expect(() => encodeValue({ key: new Map() })).toThrow(/plain objects/);
  });

  it('seals message records at rest and reads them back with their types', async () => {
    const name = `test-${Math.random()}`;
    const inner = new IndexedDbKeyStore(name);
    const store = new EncryptingKeyStore(inner);
    await store.set('u1/message/c1/m1', record);

    const raw = await inner.get<unknown>('u1/message/c1/m1');
    expect(contains(raw, 'old harbour')).toBe(false);
    expect(await store.get('u1/message/c1/m1')).toEqual(record);

    // The device key is a non-extractable AES-GCM CryptoKey kept in IndexedDB.
    const key = await inner.get<CryptoKey>(LOCAL_STORE_KEY_NAME);
    expect(key?.algorithm.name).toBe('AES-GCM');
    expect(key?.extractable).toBe(false);

    // A second wrapper over the same database (a reload) opens it with the stored key.
    await inner.close();
    const reopened = new IndexedDbKeyStore(name);
    expect(await new EncryptingKeyStore(reopened).get('u1/message/c1/m1')).toEqual(record);
    await reopened.close();
  });

  it('binds each sealed value to its record name and fails closed on tampering', async () => {
    const inner = new IndexedDbKeyStore(`test-${Math.random()}`);
    const unreadable: string[] = [];
    const store = new EncryptingKeyStore(inner, { onUnreadable: (key) => unreadable.push(key) });
    await store.set('u1/title/c1', 'Launch plans');
    const sealed = await inner.get<{ sealedV1: Uint8Array }>('u1/title/c1');

    await inner.set('u1/title/c2', sealed);
    expect(await store.get('u1/title/c2')).toBeUndefined();

    const flipped = Uint8Array.from(sealed!.sealedV1);
    flipped[flipped.length - 1]! ^= 1;
    await inner.set('u1/title/c1', { sealedV1: flipped });
    expect(await store.get('u1/title/c1')).toBeUndefined();
    expect(unreadable).toEqual(['u1/title/c2', 'u1/title/c1']);
    await inner.close();
  });

  it('passes CryptoKey records and unsealed segments through unchanged', async () => {
    const inner = new IndexedDbKeyStore(`test-${Math.random()}`);
    const store = new EncryptingKeyStore(inner);
    const pair = await generateEd25519KeyPair();
    await store.set('u1/device', pair);
    await store.set('u1/last-event-id', '42');
    expect((await inner.get<typeof pair>('u1/device'))!.privateKey.extractable).toBe(false);
    expect(await inner.get('u1/last-event-id')).toBe('42');
    expect(await store.keys('u1/')).toEqual(['u1/device', 'u1/last-event-id']);
    // A value written before sealing existed is still read.
    await inner.set('u1/message/c1/old', record);
    expect(await store.get('u1/message/c1/old')).toEqual(record);
    await inner.close();
  });
});
