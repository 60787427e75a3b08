/**
 * Why this browser cannot run end-to-end encryption, or null when it can. WebCrypto exists only
 * in secure contexts (https, or http://localhost), and keys live in IndexedDB.
 */
export function cryptoUnsupportedReason(): string | null {
  if (!window.isSecureContext || !globalThis.crypto?.subtle) {
    return 'End-to-end encryption needs a secure connection: open SecureChat over https (or on localhost).';
  }
  if (!('indexedDB' in window) || !window.indexedDB) {
    return 'This browser does not let SecureChat store keys (IndexedDB is unavailable, as in some private windows).';
  }
  return null;
}
