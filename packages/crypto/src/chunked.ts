/**
 * Cobblestone-256: C2SP chunked encryption (c2sp.org/chunked-encryption) instantiated with
 * HKDF-SHA-512 and AEAD_AES_256_GCM, in a whole-buffer form and a streaming form.
 *
 * ```
 * key || base_nonce || commitment = HKDF-Expand-SHA-512(prk = input key,
 *     info = "c2sp.org/chunked-encryption@v1+" || "AEAD_AES_256_GCM" || 0x00 || salt || context, 32 + 12 + 32)
 * ciphertext = salt[24] || commitment[32] || AES-256-GCM(key, base_nonce XOR counter_k, aad = "", chunk_k) ...
 * ```
 * Chunks are 16 KiB of plaintext (16 KiB + 16 bytes of ciphertext); the last chunk is always
 * shorter than 16 KiB and may be empty, which is how the end of the message is authenticated:
 * a ciphertext cut at a chunk boundary ends in a full chunk and is refused as truncated. The
 * counter is XOR'd into the last 5 bytes of the base nonce, so chunks cannot be reordered; the
 * random 24-byte salt gives every message its own key and nonce; the 32-byte commitment is
 * checked (in constant time) before any chunk is decrypted, which makes the scheme key-committing
 * (one ciphertext cannot be opened under two keys, unlike plain GCM: "invisible salamanders").
 *
 * Limits (from the spec): a message is at most 2^38 chunks (4 PiB); a single input key may
 * encrypt about 2^45 messages of 1 GiB (see the spec's table). The whole-buffer form holds the
 * message in memory; use the streams for large files.
 *
 * Streaming decryption releases a chunk's plaintext only after that chunk's tag verified, but a
 * stream can still fail later (truncation is detected at the end). Treat the output of a stream
 * that errored as untrusted and discard it.
 *
 * @module
 */
import { checkBytes, concatBytes, toBytes, type Bytes } from './encoding.ts';
import { AuthenticationError, InvalidInputError, orAuthFailure } from './errors.ts';
import { KDF_LABELS } from './labels.ts';
import { ctEqual, GCM_TAG_LENGTH, hkdfExpandSha512, randomBytes } from './primitives.ts';

/** Plaintext bytes per chunk: 16 KiB. */
export const CHUNK_SIZE = 16384;
/** Ciphertext bytes of a full chunk. */
export const ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + GCM_TAG_LENGTH;
/** Salt length. */
export const SALT_LENGTH = 24;
/** Commitment length. */
export const COMMITMENT_LENGTH = 32;
/** Fixed overhead before the first chunk: salt and commitment (56 bytes). */
export const CHUNKED_HEADER_LENGTH = SALT_LENGTH + COMMITMENT_LENGTH;
/** The spec's hard chunk-count limit. */
export const MAX_CHUNKS = 2 ** 38;

const INFO_PREFIX = new TextEncoder().encode('c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\0');
const EMPTY = new Uint8Array(0);
// Chunks per batch of concurrent WebCrypto calls, and batches outstanding (see pipelineChunks).
const BATCH = 64;
const BATCHES_IN_FLIGHT = 2;
// The streams process at most this many chunks per batch.
const CONCURRENCY = 64;

interface Derived {
  key: CryptoKey;
  baseNonce: Bytes;
  commitment: Bytes;
}

async function derive(
  inputKey: Uint8Array,
  salt: Uint8Array,
  context: Uint8Array,
): Promise<Derived> {
  const okm = await hkdfExpandSha512(
    inputKey,
    concatBytes(INFO_PREFIX, salt, context),
    32 + 12 + 32,
  );
  const key = await crypto.subtle.importKey(
    'raw',
    okm.subarray(0, 32),
    { name: 'AES-GCM' },
    false,
    ['encrypt', 'decrypt'],
  );
  const baseNonce = okm.slice(32, 44);
  const commitment = okm.slice(44, 76);
  okm.fill(0);
  return { key, baseNonce, commitment };
}

/**
 * The nonce of chunk `counter`: the base nonce XOR the counter as a 96-bit big-endian integer.
 * The counter is below 2^38, so it touches the last five bytes only. Runs once per chunk, on the
 * thread that issues the engine calls, so it stays plain byte arithmetic on one copy.
 */
function chunkNonce(baseNonce: Uint8Array, counter: number): Bytes {
  if (counter >= MAX_CHUNKS) throw new AuthenticationError();
  const nonce = baseNonce.slice();
  nonce[7]! ^= Math.floor(counter / 2 ** 32);
  nonce[8]! ^= counter >>> 24;
  nonce[9]! ^= (counter >>> 16) & 0xff;
  nonce[10]! ^= (counter >>> 8) & 0xff;
  nonce[11]! ^= counter & 0xff;
  return nonce;
}

function checkKeyAndContext(key: Uint8Array, context: Uint8Array | undefined): Uint8Array {
  checkBytes(key, 'key', 32);
  if (context === undefined) return EMPTY;
  checkBytes(context, 'context');
  return context;
}

/**
 * Run `call(i)` for every chunk i in [0, n) and hand each result to `store(i, result)`, issuing
 * calls in batches of {@link BATCH} with up to {@link BATCHES_IN_FLIGHT} batches outstanding.
 * WebCrypto runs AES-GCM off the main thread, but each call carries fixed engine overhead on the
 * main thread; issuing a batch in one synchronous loop while the previous batch is still being
 * processed keeps both busy (measured faster than a pool of independent awaiting workers).
 */
async function pipelineChunks(
  n: number,
  call: (i: number) => Promise<ArrayBuffer>,
  store: (i: number, result: ArrayBuffer) => void,
): Promise<void> {
  const inFlight: Promise<void>[] = [];
  let failure: { reason: unknown } | undefined;
  try {
    for (let first = 0; first < n; first += BATCH) {
      const calls: Promise<ArrayBuffer>[] = [];
      const end = Math.min(n, first + BATCH);
      for (let i = first; i < end; i++) calls.push(call(i));
      inFlight.push(
        Promise.all(calls).then((results) => {
          for (let k = 0; k < results.length; k++) store(first + k, results[k]!);
        }),
      );
      if (inFlight.length >= BATCHES_IN_FLIGHT) await inFlight.shift();
    }
  } catch (reason) {
    failure = { reason };
  }
  // Settle everything before returning or rethrowing, so no call outlives this function.
  for (const r of await Promise.allSettled(inFlight))
    if (r.status === 'rejected') failure ??= { reason: r.reason };
  if (failure) throw failure.reason;
}

// Plain (non-async) functions on the hot path: an async wrapper adds promise hops per chunk.
function sealChunk(d: Derived, counter: number, plaintext: Uint8Array): Promise<ArrayBuffer> {
  return crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: chunkNonce(d.baseNonce, counter) },
    d.key,
    toBytes(plaintext),
  );
}

/** Decrypt one chunk. Rejects with the engine's error: callers turn any failure into AuthenticationError. */
function openChunk(d: Derived, counter: number, ciphertext: Uint8Array): Promise<ArrayBuffer> {
  return crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: chunkNonce(d.baseNonce, counter) },
    d.key,
    toBytes(ciphertext),
  );
}

/**
 * Encrypt `plaintext` with Cobblestone-256 under the 32-byte uniformly random `key`, binding the
 * optional `context`. Output: `salt || commitment || chunks`, 56 + 16 × (⌊len / 16384⌋ + 1) bytes
 * longer than the input.
 */
export async function sealChunked(
  key: Uint8Array,
  plaintext: Uint8Array,
  context?: Uint8Array,
): Promise<Uint8Array> {
  const ctx = checkKeyAndContext(key, context);
  checkBytes(plaintext, 'plaintext');
  const salt = randomBytes(SALT_LENGTH);
  const d = await derive(key, salt, ctx);
  const chunks = Math.floor(plaintext.length / CHUNK_SIZE) + 1;
  const out = new Uint8Array(CHUNKED_HEADER_LENGTH + plaintext.length + chunks * GCM_TAG_LENGTH);
  out.set(salt, 0);
  out.set(d.commitment, SALT_LENGTH);
  await pipelineChunks(
    chunks,
    (i) =>
      sealChunk(
        d,
        i,
        plaintext.subarray(i * CHUNK_SIZE, Math.min((i + 1) * CHUNK_SIZE, plaintext.length)),
      ),
    (i, ct) => out.set(new Uint8Array(ct), CHUNKED_HEADER_LENGTH + i * ENCRYPTED_CHUNK_SIZE),
  );
  return out;
}

/**
 * Decrypt a Cobblestone-256 ciphertext. Refused with {@link AuthenticationError}: a length no
 * honest encryption produces (too short, cut at a chunk boundary, a final chunk shorter than its
 * tag), a commitment that does not match (wrong key, salt or context; checked before decrypting
 * anything), and any chunk that fails authentication (modified, reordered, truncated, extended).
 * Nothing is returned unless every chunk authenticated.
 */
export async function openChunked(
  key: Uint8Array,
  ciphertext: Uint8Array,
  context?: Uint8Array,
): Promise<Uint8Array> {
  const ctx = checkKeyAndContext(key, context);
  checkBytes(ciphertext, 'ciphertext');
  const body = ciphertext.length - CHUNKED_HEADER_LENGTH;
  if (body < GCM_TAG_LENGTH) throw new AuthenticationError();
  const fullChunks = Math.floor(body / ENCRYPTED_CHUNK_SIZE);
  const last = body - fullChunks * ENCRYPTED_CHUNK_SIZE;
  // The final chunk holds 0..16383 bytes of plaintext, so 16..16399 bytes of ciphertext; a body
  // ending exactly at a chunk boundary is a truncated message.
  if (last < GCM_TAG_LENGTH) throw new AuthenticationError();
  const d = await derive(key, ciphertext.subarray(0, SALT_LENGTH), ctx);
  if (!ctEqual(d.commitment, ciphertext.subarray(SALT_LENGTH, CHUNKED_HEADER_LENGTH)))
    throw new AuthenticationError();
  const chunks = fullChunks + 1;
  const out = new Uint8Array(body - chunks * GCM_TAG_LENGTH);
  try {
    await pipelineChunks(
      chunks,
      (i) => {
        const start = CHUNKED_HEADER_LENGTH + i * ENCRYPTED_CHUNK_SIZE;
        return openChunk(
          d,
          i,
          ciphertext.subarray(start, Math.min(start + ENCRYPTED_CHUNK_SIZE, ciphertext.length)),
        );
      },
      (i, pt) => out.set(new Uint8Array(pt), i * CHUNK_SIZE),
    );
  } catch {
    out.fill(0);
    throw new AuthenticationError();
  }
  return out;
}

/**
 * Growable byte queue used by the streams: appends without copying whole history, hands out
 * contiguous slices from the front.
 */
class ByteQueue {
  #parts: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  /**
   * Replace the queued parts by one private copy. Called before returning control to the writer,
   * so bytes still queued do not alias a buffer the writer may reuse.
   */
  compact(): void {
    if (this.#parts.length === 0) return;
    this.#parts = [this.take(this.#length).slice()];
    this.#length = this.#parts[0]!.length;
  }

  /** Remove and return the first `n` bytes (a view when they lie in one part, else a copy). */
  take(n: number): Uint8Array {
    const first = this.#parts[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#parts.shift();
      else this.#parts[0] = first.subarray(n);
      this.#length -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const part = this.#parts[0]!;
      const use = Math.min(part.length, n - filled);
      out.set(part.subarray(0, use), filled);
      filled += use;
      if (use === part.length) this.#parts.shift();
      else this.#parts[0] = part.subarray(use);
    }
    this.#length -= n;
    return out;
  }
}

function checkChunk(chunk: unknown): Uint8Array {
  if (!(chunk instanceof Uint8Array))
    throw new InvalidInputError('stream chunks must be Uint8Arrays');
  return chunk;
}

/**
 * A `TransformStream` that encrypts a plaintext byte stream with Cobblestone-256. Emits the
 * 56-byte header first, then each full 16 KiB chunk as soon as it is complete, and the final
 * short chunk when the input closes. Input chunks may be any size; the stream copies what it
 * needs, so callers may reuse their buffers once a write resolves.
 */
export function createSealStream(
  key: Uint8Array,
  context?: Uint8Array,
): TransformStream<Uint8Array, Uint8Array> {
  const ctx = checkKeyAndContext(key, context);
  const keyCopy = Uint8Array.from(key);
  const ctxCopy = Uint8Array.from(ctx);
  const queue = new ByteQueue();
  let derived: Derived;
  let counter = 0;

  const sealBatch = async (
    count: number,
    controller: TransformStreamDefaultController<Uint8Array>,
  ) => {
    const first = counter;
    counter += count;
    // WebCrypto copies its input when called, so views into the queue are safe here.
    const outputs = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        sealChunk(derived, first + i, queue.take(CHUNK_SIZE)),
      ),
    );
    // One buffer per batch: downstream stages (hashing, the upload) pay per chunk, not per byte.
    controller.enqueue(concatBytes(...outputs.map((ct) => new Uint8Array(ct))));
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      const salt = randomBytes(SALT_LENGTH);
      derived = await derive(keyCopy, salt, ctxCopy);
      keyCopy.fill(0);
      controller.enqueue(concatBytes(salt, derived.commitment));
    },
    async transform(chunk, controller) {
      queue.push(checkChunk(chunk));
      // A full chunk is never the last one, so it can be sealed and emitted at once.
      while (queue.length >= CHUNK_SIZE) {
        await sealBatch(Math.min(CONCURRENCY, Math.floor(queue.length / CHUNK_SIZE)), controller);
      }
      queue.compact();
    },
    async flush(controller) {
      const rest = queue.take(queue.length);
      controller.enqueue(new Uint8Array(await sealChunk(derived, counter++, rest)));
    },
  });
}

/**
 * A `TransformStream` that decrypts a Cobblestone-256 ciphertext stream. It checks the
 * commitment before decrypting anything, emits each chunk's plaintext only after that chunk
 * authenticated, holds back a full-size chunk until more input shows it is not the last one (a
 * message may not end on a full chunk), and errors with {@link AuthenticationError} on any
 * failure, including truncation detected when the input closes. If it errors, discard
 * everything it emitted: earlier chunks were genuine, but the file as a whole is not.
 */
export function createOpenStream(
  key: Uint8Array,
  context?: Uint8Array,
): TransformStream<Uint8Array, Uint8Array> {
  const ctx = checkKeyAndContext(key, context);
  const keyCopy = Uint8Array.from(key);
  const ctxCopy = Uint8Array.from(ctx);
  const queue = new ByteQueue();
  let derived: Derived | undefined;
  let counter = 0;

  const readHeader = async () => {
    if (derived || queue.length < CHUNKED_HEADER_LENGTH) return;
    const header = queue.take(CHUNKED_HEADER_LENGTH);
    const d = await derive(keyCopy, header.subarray(0, SALT_LENGTH), ctxCopy);
    keyCopy.fill(0);
    if (!ctEqual(d.commitment, header.subarray(SALT_LENGTH))) throw new AuthenticationError();
    derived = d;
  };

  // Decrypt every full chunk known not to be the last (at least one more byte follows it).
  const openAvailable = async (controller: TransformStreamDefaultController<Uint8Array>) => {
    while (derived && queue.length > ENCRYPTED_CHUNK_SIZE) {
      const count = Math.min(CONCURRENCY, Math.floor((queue.length - 1) / ENCRYPTED_CHUNK_SIZE));
      const first = counter;
      counter += count;
      const d = derived;
      const outputs = await orAuthFailure(() =>
        Promise.all(
          Array.from({ length: count }, (_, i) =>
            openChunk(d, first + i, queue.take(ENCRYPTED_CHUNK_SIZE)),
          ),
        ),
      );
      // Every chunk of the batch has authenticated: release them as one buffer.
      controller.enqueue(concatBytes(...outputs.map((pt) => new Uint8Array(pt))));
    }
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      queue.push(checkChunk(chunk));
      await readHeader();
      await openAvailable(controller);
      queue.compact();
    },
    async flush(controller) {
      await readHeader();
      if (!derived) throw new AuthenticationError();
      await openAvailable(controller);
      // What is left must be a final chunk: between a bare tag and one byte short of a full chunk.
      if (queue.length < GCM_TAG_LENGTH || queue.length >= ENCRYPTED_CHUNK_SIZE)
        throw new AuthenticationError();
      const d = derived;
      const last = queue.take(queue.length);
      controller.enqueue(new Uint8Array(await orAuthFailure(() => openChunk(d, counter++, last))));
    },
  });
}

/** The Cobblestone context for an attachment (§3.8): `"securechat/v1/file" || file_id`. */
export function fileContext(fileId: Uint8Array): Bytes {
  checkBytes(fileId, 'fileId', 16);
  return concatBytes(KDF_LABELS.file, fileId);
}
