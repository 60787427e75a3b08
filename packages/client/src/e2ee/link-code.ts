import {
  aesGcmOpen,
  aesGcmSeal,
  concatBytes,
  ctEqual,
  decodeLinkRequest,
  encodeLinkRequest,
  hkdfSha256,
  Reader,
  sha256,
  toHex,
  utf8Encode,
  Writer,
  type Bytes,
  type LinkRequest,
} from '@securechat/crypto';
import { LinkCodeError } from './errors.ts';

/**
 * The link code of §3.3 flow A, and the link request it unlocks.
 *
 * The design shows the whole link request (device id, keys, 128-bit link secret `LS`) as a QR
 * code. A person cannot type 113 bytes, so the new device leaves its public keys and name on the
 * server sealed under a key derived from `LS`, and the code carries only `LS` itself:
 *
 *   code   = Crockford base32 of LS[16] | checksum (12 bits)   (28 characters, 7 groups of 4)
 *   handle = SHA-256("securechat/v1/link-handle" || LS)[0..16]  (how the server finds the request)
 *   key    = HKDF-SHA-256(LS, info = "securechat/v1/link-request")
 *   sealed = AES-256-GCM(key, random96, aad = label || user_id, LinkRequest | name)
 *
 * Why the code must carry all of `LS` rather than a short number: the server relays the request,
 * so a code that did not commit to the new device's keys would let it swap in keys of its own and
 * have the existing device add a ghost device to the signed list. Sealing under `LS` makes any
 * change fail authentication on the existing device, and 128 bits leave nothing to guess offline
 * from the handle or the sealed request (a 6-digit code would be brute-forced in microseconds).
 * The provisioning envelope then binds `LS` again in its HPKE info (packages/crypto). The
 * checksum only catches typos, with a clear message, before any network call.
 */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 28;
/** What a QR code of the link carries before the code, so a scanner knows what it read. */
export const LINK_QR_PREFIX = 'securechat-link:';

const LABELS = {
  checksum: utf8Encode('securechat/v1/link-code'),
  handle: utf8Encode('securechat/v1/link-handle'),
  request: utf8Encode('securechat/v1/link-request'),
};

async function checksum12(secret: Uint8Array): Promise<number> {
  const h = await sha256(concatBytes(LABELS.checksum, secret));
  return (h[0]! << 4) | (h[1]! >> 4);
}

/** The typeable code for a 16-byte link secret: `XXXX-XXXX-…` (7 groups). */
export async function encodeLinkCode(secret: Uint8Array): Promise<string> {
  let value = 0n;
  for (const b of secret) value = (value << 8n) | BigInt(b);
  value = (value << 12n) | BigInt(await checksum12(secret));
  let out = '';
  for (let i = CODE_CHARS - 1; i >= 0; i--)
    out += CROCKFORD[Number((value >> BigInt(i * 5)) & 31n)];
  return out.match(/.{4}/g)!.join('-');
}

/**
 * The link secret in a code as typed or scanned. Case, spaces and hyphens are ignored, O reads as
 * 0 and I/L as 1. Throws {@link LinkCodeError} (`malformed`) naming the problem.
 */
export async function decodeLinkCode(text: string): Promise<Bytes> {
  if (typeof text !== 'string') throw new LinkCodeError('malformed', 'Enter the code');
  let cleaned = text.trim();
  if (cleaned.toLowerCase().startsWith(LINK_QR_PREFIX))
    cleaned = cleaned.slice(LINK_QR_PREFIX.length);
  cleaned = cleaned.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (cleaned.length !== CODE_CHARS) {
    throw new LinkCodeError(
      'malformed',
      `The code has ${CODE_CHARS} characters; this one has ${cleaned.length}`,
    );
  }
  let value = 0n;
  for (let i = 0; i < cleaned.length; i++) {
    const v = CROCKFORD.indexOf(cleaned[i]!);
    if (v < 0) {
      throw new LinkCodeError(
        'malformed',
        `The code cannot contain '${cleaned[i]}' (character ${i + 1})`,
      );
    }
    value = (value << 5n) | BigInt(v);
  }
  const sum = Number(value & 0xfffn);
  value >>= 12n;
  const secret = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    secret[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  if ((await checksum12(secret)) !== sum) {
    throw new LinkCodeError('malformed', 'That code has a typo: check it against the other screen');
  }
  return secret;
}

/** The server's look-up handle for a link secret (reveals nothing about the secret). */
export async function linkHandle(secret: Uint8Array): Promise<string> {
  return toHex((await sha256(concatBytes(LABELS.handle, secret))).slice(0, 16));
}

function requestKey(secret: Uint8Array): Promise<Bytes> {
  return hkdfSha256(secret, new Uint8Array(0), LABELS.request, 32);
}

/** Seals the link request and the new device's name for the relay (see the module comment). */
export async function sealLinkRequest(request: LinkRequest, name: string): Promise<Bytes> {
  const payload = new Writer().vec32(encodeLinkRequest(request)).str16(name, 'name').finish();
  return aesGcmSeal(
    await requestKey(request.linkSecret),
    payload,
    concatBytes(LABELS.request, request.userId),
  );
}

/**
 * Opens a relayed link request with the secret from the code. Anything changed on the way, a
 * request of another user, or one made with another secret throws {@link LinkCodeError}.
 */
export async function openLinkRequest(
  secret: Uint8Array,
  userId: Uint8Array,
  sealed: Uint8Array,
): Promise<{ request: LinkRequest; name: string }> {
  try {
    const payload = await aesGcmOpen(
      await requestKey(secret),
      sealed,
      concatBytes(LABELS.request, userId),
    );
    const r = new Reader(payload, 'link request');
    const request = decodeLinkRequest(r.vec32('request', 1024));
    const name = r.str16('name', 256);
    r.end();
    if (!ctEqual(request.linkSecret, secret) || !ctEqual(request.userId, userId)) throw new Error();
    return { request, name };
  } catch {
    throw new LinkCodeError(
      'not-found',
      'This code does not match a device waiting to be linked to this account',
    );
  }
}
