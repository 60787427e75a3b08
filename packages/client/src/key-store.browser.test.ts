import { generateEd25519KeyPair } from '@securechat/crypto';
import { describe, expect, it } from 'vitest';
import { EncryptingKeyStore } from './key-store-encrypting.ts';
import { IndexedDbKeyStore } from './key-store-idb.ts';
import { MemoryKeyStore, type KeyStore } from './key-store.ts';

describe('IndexedDbKeyStore', () => {
  it('stores values and lists keys by prefix, in order', async () => {
    const store = new IndexedDbKeyStore(`test-${Math.random()}`);
    await store.set('u1/epoch/b', new Uint8Array([2]));
    await store.set('u1/epoch/a', { n: 1 });
    await store.set('u2/epoch/a', 'other user');
    expect(await store.keys('u1/epoch/')).toEqual(['u1/epoch/a', 'u1/epoch/b']);
    expect(await store.get('u1/epoch/b')).toEqual(new Uint8Array([2]));
    await store.delete('u1/epoch/a');
    expect(await store.get('u1/epoch/a')).toBeUndefined();
    await store.close();
  });

  it('keeps a private key non-extractable and usable after a round trip', async () => {
    const name = `test-${Math.random()}`;
    const pair = await generateEd25519KeyPair();
    const store = new IndexedDbKeyStore(name);
    await store.set('device', pair);
    await store.close();
    const reopened = new IndexedDbKeyStore(name);
    const loaded = await reopened.get<typeof pair>('device');
    expect(loaded!.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', loaded!.privateKey)).rejects.toThrow();
    const signature = await crypto.subtle.sign(
      'Ed25519',
      loaded!.privateKey,
      new Uint8Array([1, 2, 3]),
    );
    expect(signature.byteLength).toBe(64);
    await reopened.close();
  });
});

// The client writes a record and goes on changing the object (a message gets its seq): only what
// was written may be stored, in every store, or a device stopped between two writes would come
// back with what it never wrote.
describe.each([
  ['IndexedDbKeyStore', () => new IndexedDbKeyStore(`test-${Math.random()}`)],
  ['MemoryKeyStore', () => new MemoryKeyStore()],
  [
    'EncryptingKeyStore',
    () => new EncryptingKeyStore(new IndexedDbKeyStore(`test-${Math.random()}`)),
  ],
] as [string, () => KeyStore][])('%s', (_, open) => {
  it('stores a value as it was when written, and reads out a copy', async () => {
    const store = open();
    const record = { seq: null as number | null, bytes: new Uint8Array([1]) };
    await store.set('u1/message/a', record);
    record.seq = 7;
    record.bytes[0] = 2;
    const read = await store.get<typeof record>('u1/message/a');
    expect(read).toEqual({ seq: null, bytes: new Uint8Array([1]) });
    read!.seq = 8;
    expect(await store.get('u1/message/a')).toEqual({ seq: null, bytes: new Uint8Array([1]) });
  });

  it('writes several values together, or none of them when one cannot be stored', async () => {
    const store = open();
    await store.set('u1/epoch/a', 'epoch 1');
    await store.setMany([
      ['u1/epoch/a', 'epoch 2'],
      ['u1/message/a', { seq: null }],
    ]);
    expect(await store.get('u1/epoch/a')).toBe('epoch 2');
    expect(await store.get('u1/message/a')).toEqual({ seq: null });
    // A function cannot be stored (structured clone refuses it): the write before it is undone.
    await expect(
      store.setMany([
        ['u1/epoch/a', 'epoch 3'],
        ['u1/message/b', { seq: null, callback: () => {} }],
      ]),
    ).rejects.toThrow();
    expect(await store.get('u1/epoch/a')).toBe('epoch 2');
    expect(await store.get('u1/message/b')).toBeUndefined();
  });
});
