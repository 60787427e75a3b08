import {
  AuthenticationError,
  attachmentCiphertextLength,
  attachmentOpenStream,
  attachmentSealStream,
  createSha256Stream,
  fromHex,
  randomBytes,
  sameDigest,
  toHex,
  type FileRef,
} from '@securechat/crypto';
import type { ApiClient } from './client.ts';

/** What file transfers need from the client: the API, where the server is, and how to sign in. */
export interface FileTransport {
  api: ApiClient;
  baseUrl: URL;
  fetch: typeof globalThis.fetch;
  /** The `Authorization` header in bearer mode; null in cookie mode. */
  authorization(): string | null;
}

/** Bytes, a Blob (a browser File), or a stream (with `size` given). */
export type FileInput = Uint8Array | Blob | ReadableStream<Uint8Array>;

export interface UploadOptions {
  name: string;
  mime: string;
  /** Plaintext length; required for a stream. */
  size?: number;
  /** Called as ciphertext bytes leave this device. */
  onProgress?(sentBytes: number, totalBytes: number): void;
  signal?: AbortSignal;
}

/** The server refused or failed a transfer. */
export class FileTransferError extends Error {
  override name = 'FileTransferError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SLICE = 1 << 20;

function toStream(input: FileInput): ReadableStream<Uint8Array> {
  if (input instanceof ReadableStream) return input;
  if (typeof Blob !== 'undefined' && input instanceof Blob) return input.stream();
  const bytes = input as Uint8Array;
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, (offset += SLICE)));
    },
  });
}

function plaintextLength(input: FileInput, size: number | undefined): number {
  if (input instanceof Uint8Array) return input.length;
  if (typeof Blob !== 'undefined' && input instanceof Blob) return input.size;
  if (size === undefined) throw new TypeError('size is required when the input is a stream');
  return size;
}

async function failure(response: Response): Promise<FileTransferError> {
  let code = 'ERROR';
  let message = `The server answered ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not JSON: keep the status
  }
  return new FileTransferError(response.status, code, message);
}

function headers(t: FileTransport): Record<string, string> {
  const authorization = t.authorization();
  return authorization ? { authorization } : {};
}

/** PUTs the ciphertext: streamed where fetch can stream a request (Node), else as a Blob by XHR. */
async function put(
  t: FileTransport,
  path: string,
  body: ReadableStream<Uint8Array>,
  options: UploadOptions,
  total: number,
) {
  const url = new URL(path, t.baseUrl).toString();
  if (typeof XMLHttpRequest === 'undefined') {
    const response = await t.fetch(url, {
      method: 'PUT',
      body,
      headers: headers(t),
      signal: options.signal ?? null,
      duplex: 'half',
    } as RequestInit);
    if (response.status !== 201) throw await failure(response);
    return;
  }
  // Browsers stream request bodies only over HTTP/2, so the ciphertext is gathered in a Blob
  // (which the browser may keep on disk), then sent by XHR, which reports upload progress.
  const blob = await new Response(body).blob();
  // Cancelled while the ciphertext was being gathered: the abort listener below would never fire.
  options.signal?.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers(t))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => options.onProgress?.(event.loaded, total);
    xhr.onload = () =>
      xhr.status === 201
        ? resolve()
        : failure(new Response(xhr.responseText, { status: xhr.status })).then(reject, reject);
    xhr.onerror = () => reject(new FileTransferError(0, 'NETWORK', 'The upload failed'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(blob);
  });
}

/**
 * Encrypts and uploads a file (§3.8): a fresh 32-byte key, Cobblestone-256 bound to a random
 * file id, the ciphertext hashed as it streams out. Returns the {@link FileRef} to put inside the
 * end-to-end encrypted message: without it the blob is noise to the server.
 */
export async function uploadFile(
  t: FileTransport,
  conversationId: string,
  input: FileInput,
  options: UploadOptions,
): Promise<FileRef> {
  const ptLength = plaintextLength(input, options.size);
  const key = randomBytes(32);
  const ctLength = attachmentCiphertextLength(ptLength);
  // The server picks the file id; the encryption binds it as context.
  const { fileId: id, uploadPath } = await t.api.files.createUpload.mutate({
    conversationId,
    size: ctLength,
  });
  const fileId = fromHex(id, 16);
  const hasher = await createSha256Stream();
  let sent = 0;
  const meter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hasher.update(chunk);
      sent += chunk.length;
      if (typeof XMLHttpRequest === 'undefined') options.onProgress?.(sent, ctLength);
      controller.enqueue(chunk);
    },
  });
  const ciphertext = toStream(input)
    .pipeThrough(attachmentSealStream(key, fileId))
    .pipeThrough(meter);
  await put(t, uploadPath, ciphertext, options, ctLength);
  const ctSha256 = hasher.digest();
  await t.api.files.complete.mutate({ fileId: id, sha256: toHex(ctSha256) });
  return { fileId, key, ctLength, ctSha256, ptLength, mime: options.mime, name: options.name };
}

/**
 * Downloads and decrypts a file as a stream of verified plaintext. Every chunk is authenticated
 * by Cobblestone before it is released (and a swapped blob fails its key commitment at once);
 * the whole ciphertext's length and SHA-256 are checked against the FileRef before the last
 * chunk is released, so a stream that ends has matched the blob the sender meant exactly.
 */
export function openFile(
  t: FileTransport,
  ref: FileRef,
  options: {
    signal?: AbortSignal;
    onProgress?(receivedBytes: number, totalBytes: number): void;
  } = {},
): ReadableStream<Uint8Array> {
  let received = 0;
  let hasher: Awaited<ReturnType<typeof createSha256Stream>> | null = null;
  const meter = new TransformStream<Uint8Array, Uint8Array>({
    async start() {
      hasher = await createSha256Stream();
    },
    transform(chunk, controller) {
      received += chunk.length;
      if (received > ref.ctLength) throw new AuthenticationError();
      hasher!.update(chunk);
      options.onProgress?.(received, ref.ctLength);
      controller.enqueue(chunk);
    },
  });
  let held: Uint8Array | null = null;
  const holdLast = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (held) controller.enqueue(held);
      held = chunk;
    },
    flush(controller) {
      if (received !== ref.ctLength || !sameDigest(hasher!.digest(), ref.ctSha256))
        throw new AuthenticationError();
      if (held) controller.enqueue(held);
    },
  });
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  void (async () => {
    try {
      const response = await t.fetch(new URL(`/files/${toHex(ref.fileId)}`, t.baseUrl), {
        headers: headers(t),
        signal: options.signal ?? null,
      });
      if (response.status !== 200 || !response.body) throw await failure(response);
      if (Number(response.headers.get('content-length')) !== ref.ctLength)
        throw new AuthenticationError();
      await response.body
        .pipeThrough(meter)
        .pipeThrough(attachmentOpenStream(ref))
        .pipeThrough(holdLast)
        .pipeTo(writable);
    } catch (error) {
      await writable.abort(error).catch(() => {});
    }
  })();
  return readable;
}
