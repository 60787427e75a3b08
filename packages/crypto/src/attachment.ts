/**
 * Encrypted attachments (§3.8) on top of Cobblestone-256: a fresh key per file, the file id bound
 * as context, and a {@link FileRef} (key, lengths, ciphertext hash) to carry inside a message.
 *
 * The ciphertext hash is checked before decrypting, so a blob swapped on the server is refused
 * outright; Cobblestone's commitment and per-chunk tags would refuse it too, but the hash also
 * lets a client reject it before spending work, and pins exactly which blob the sender meant.
 *
 * @module
 */
import {
  createOpenStream,
  createSealStream,
  fileContext,
  openChunked,
  sealChunked,
} from './chunked.ts';
import type { FileRef } from './content.ts';
import { checkBytes, checkString, utf8Encode } from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';
import { ID_LENGTH } from './identity.ts';
import { ctEqual, randomBytes, sha256 } from './primitives.ts';

/**
 * Encrypt a whole file in memory. Returns the ciphertext to upload and the {@link FileRef} to put
 * in the message. `fileId` defaults to 16 random bytes (use the id the upload API assigns if it
 * assigns one before encryption).
 */
export async function encryptAttachment(
  plaintext: Uint8Array,
  meta: { mime: string; name: string; fileId?: Uint8Array },
): Promise<{ ref: FileRef; ciphertext: Uint8Array }> {
  checkBytes(plaintext, 'plaintext');
  checkString(meta?.mime, 'mime');
  checkString(meta.name, 'name');
  if (utf8Encode(meta.mime).length > 255)
    throw new InvalidInputError('mime must be at most 255 bytes');
  if (utf8Encode(meta.name).length > 1024)
    throw new InvalidInputError('name must be at most 1024 bytes');
  const fileId = meta.fileId ? Uint8Array.from(meta.fileId) : randomBytes(ID_LENGTH);
  checkBytes(fileId, 'fileId', ID_LENGTH);
  const key = randomBytes(32);
  const ciphertext = await sealChunked(key, plaintext, fileContext(fileId));
  return {
    ciphertext,
    ref: {
      fileId,
      key,
      ctLength: ciphertext.length,
      ctSha256: await sha256(ciphertext),
      ptLength: plaintext.length,
      mime: meta.mime,
      name: meta.name,
    },
  };
}

/**
 * Decrypt a downloaded attachment: the length and SHA-256 must match the {@link FileRef} from the
 * (already verified) message, then Cobblestone opens it. Any mismatch throws {@link AuthenticationError}.
 */
export async function decryptAttachment(ref: FileRef, ciphertext: Uint8Array): Promise<Uint8Array> {
  checkBytes(ref?.key, 'ref.key', 32);
  checkBytes(ref.fileId, 'ref.fileId', ID_LENGTH);
  checkBytes(ref.ctSha256, 'ref.ctSha256', 32);
  checkBytes(ciphertext, 'ciphertext');
  if (ciphertext.length !== ref.ctLength || !ctEqual(await sha256(ciphertext), ref.ctSha256))
    throw new AuthenticationError();
  const plaintext = await openChunked(ref.key, ciphertext, fileContext(ref.fileId));
  if (plaintext.length !== ref.ptLength) throw new AuthenticationError();
  return plaintext;
}

/**
 * Streaming forms for large files: a Cobblestone seal stream for `fileId` under `key`, and an
 * open stream for a {@link FileRef}. Streams cannot check `ctSha256` before decrypting (they see
 * the blob once); they rely on Cobblestone's commitment and per-chunk authentication instead.
 * Hash the ciphertext while uploading (`createSha256Stream`) to fill `ctSha256`.
 */
export function attachmentSealStream(
  key: Uint8Array,
  fileId: Uint8Array,
): TransformStream<Uint8Array, Uint8Array> {
  return createSealStream(key, fileContext(fileId));
}

/** See {@link attachmentSealStream}. */
export function attachmentOpenStream(ref: FileRef): TransformStream<Uint8Array, Uint8Array> {
  checkBytes(ref?.key, 'ref.key', 32);
  return createOpenStream(ref.key, fileContext(ref.fileId));
}

/** Length of the Cobblestone ciphertext of a `plaintextLength`-byte file (56 + len + 16 per chunk). */
export function attachmentCiphertextLength(plaintextLength: number): number {
  if (!Number.isSafeInteger(plaintextLength) || plaintextLength < 0)
    throw new InvalidInputError('plaintextLength must be a non-negative integer');
  return 56 + plaintextLength + 16 * (Math.floor(plaintextLength / 16384) + 1);
}
