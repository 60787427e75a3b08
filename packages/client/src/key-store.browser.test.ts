import { generateEd25519KeyPair } from '@securechat/crypto';
import { describe, expect, it } from 'vitest';
import { IndexedDbKeyStore } from './key-store-idb.ts';

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
