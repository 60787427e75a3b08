import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import {
  FileTransferError,
  type ChatMessage,
  type FileRef,
  type SecureChatClient,
} from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { ErrorAlert, LoadingState } from '../../components/status.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { formatAbsolute } from '../../lib/time.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';

/** The longest side of a thumbnail, in CSS pixels. */
const THUMBNAIL_SIDE = 320;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GB`;
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** What a failed upload or download says to the user. */
export function fileErrorMessage(error: unknown): string {
  if (isAbort(error)) return 'Cancelled.';
  if (error instanceof FileTransferError) {
    if (error.code === 'PAYLOAD_TOO_LARGE' || error.status === 413) return error.message;
    if (error.status === 0) return 'Cannot reach the server. Check your connection and try again.';
    return error.message;
  }
  return errorMessage(error);
}

/**
 * A small preview of an image, made in this browser (the server never sees the image): at most
 * {@link THUMBNAIL_SIDE} pixels on its longest side, as WebP (or JPEG where WebP is not encoded).
 * Null for anything that is not a decodable image.
 */
export async function makeThumbnail(file: Blob): Promise<{ data: Blob; mime: string } | null> {
  if (!file.type.startsWith('image/')) return null;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, THUMBNAIL_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d');
    if (!context) return null;
    context.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    const toBlob = (mime: string) =>
      new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, mime, 0.8));
    const webp = await toBlob('image/webp');
    if (webp && webp.type === 'image/webp') return { data: webp, mime: 'image/webp' };
    const jpeg = await toBlob('image/jpeg');
    return jpeg ? { data: jpeg, mime: 'image/jpeg' } : null;
  } catch {
    return null;
  }
}

/** Decrypts a file into a Blob of its plaintext. */
async function decryptToBlob(
  client: SecureChatClient,
  ref: FileRef,
  options: { signal?: AbortSignal; onProgress?(received: number, total: number): void } = {},
): Promise<Blob> {
  const stream = client.files.open(ref, options);
  return new Response(stream).blob().then((blob) => new Blob([blob], { type: ref.mime }));
}

/** The inline preview of an image: its thumbnail, decrypted into a Blob URL. */
function ImagePreview({ thumbnail, name }: { thumbnail: FileRef; name: string }) {
  const { client } = useReadyE2ee();
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    let objectUrl: string | null = null;
    decryptToBlob(client, thumbnail, { signal: controller.signal }).then(
      (blob) => {
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      () => {
        if (!controller.signal.aborted) setFailed(true);
      },
    );
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [client, thumbnail]);
  if (failed) return <p className="file-preview-error">The preview could not be decrypted.</p>;
  if (!url) {
    return (
      <div
        className="file-preview file-preview-loading"
        role="status"
        aria-label={`Decrypting ${name}`}
      />
    );
  }
  return <img className="file-preview" src={url} alt={name} />;
}

/** Downloads a file: decrypts its stream into a Blob, then saves it through an `<a download>`. */
function DownloadButton({ file }: { file: FileRef }) {
  const { client } = useReadyE2ee();
  const [progress, setProgress] = useState<{ received: number; total: number } | null>(null);
  const [controller, setController] = useState<AbortController | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function download() {
    const abort = new AbortController();
    setController(abort);
    setError(null);
    setProgress({ received: 0, total: file.ctLength });
    try {
      const blob = await decryptToBlob(client, file, {
        signal: abort.signal,
        onProgress: (received, total) => setProgress({ received, total }),
      });
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = file.name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (failure) {
      setError(fileErrorMessage(failure));
    } finally {
      setController(null);
      setProgress(null);
    }
  }

  return (
    <div className="file-download">
      {controller && progress ? (
        <div className="file-progress-row">
          <progress
            className="file-progress"
            aria-label={`Downloading ${file.name}`}
            max={progress.total || 1}
            value={progress.received}
          />
          <button
            type="button"
            className="link-button"
            aria-label={`Cancel download of ${file.name}`}
            onClick={() => controller.abort()}
          >
            Cancel
          </button>
        </div>
      ) : (
        <button
          type="button"
          className="btn btn-secondary btn-small"
          aria-label={`Download ${file.name}`}
          onClick={() => void download()}
        >
          Download
        </button>
      )}
      {error && <p className="file-error">{error}</p>}
    </div>
  );
}

/** A file message's attachment: an image preview, or a card with name, size and Download. */
export function FileAttachment({ message }: { message: ChatMessage }) {
  const file = message.file;
  if (!file) return null;
  return (
    <div className="file-attachment">
      {message.thumbnail && <ImagePreview thumbnail={message.thumbnail} name={file.name} />}
      <div className="file-card">
        <div className="file-card-text">
          <span className="file-name">{file.name}</span>
          <span className="file-size">{formatBytes(file.ptLength)}</span>
        </div>
        {message.seq !== null && <DownloadButton file={file} />}
      </div>
    </div>
  );
}

/** A file on its way up. */
export interface Upload {
  key: string;
  name: string;
  sent: number;
  total: number;
  error: string | null;
  controller: AbortController;
}

/** Upload progress bars, each with a cancel button (or the error and a dismiss). */
export function UploadList({
  uploads,
  onDismiss,
}: {
  uploads: Upload[];
  onDismiss: (key: string) => void;
}) {
  if (uploads.length === 0) return null;
  return (
    <ul className="upload-list" aria-label="Uploads">
      {uploads.map((upload) => (
        <li key={upload.key} className="upload-item">
          <span className="file-name">{upload.name}</span>
          {upload.error ? (
            <>
              <span className="file-error" role="alert">
                Could not send {upload.name}: {upload.error}
              </span>
              <button
                type="button"
                className="link-button"
                aria-label={`Dismiss error for ${upload.name}`}
                onClick={() => onDismiss(upload.key)}
              >
                Dismiss
              </button>
            </>
          ) : (
            <>
              <progress
                className="file-progress"
                aria-label={`Uploading ${upload.name}`}
                max={upload.total || 1}
                value={upload.sent}
              />
              <button
                type="button"
                className="link-button"
                aria-label="Cancel upload"
                title={`Cancel upload of ${upload.name}`}
                onClick={() => upload.controller.abort()}
              >
                Cancel
              </button>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/**
 * The files of a conversation: names and senders from the decrypted file messages this device
 * holds, checked against what the server still stores (`files.list`).
 */
export function FilesPanel({
  conversationId,
  messages,
  open,
  onClose,
  onShow,
}: {
  conversationId: string;
  messages: ChatMessage[];
  open: boolean;
  onClose: () => void;
  /** Show the message that shared a file, in the conversation. */
  onShow: (messageId: string) => void;
}) {
  const { client } = useReadyE2ee();
  const stored = useQuery({
    queryKey: ['files', conversationId],
    queryFn: () => client.files.list(conversationId),
    enabled: open,
  });
  const storedIds = new Set(stored.data?.map((f) => f.fileId));
  const files = messages
    .filter((m) => m.file && !m.deleted && m.seq !== null)
    .filter((m) => !stored.data || storedIds.has(hex(m.file!.fileId)))
    .reverse();
  return (
    <Dialog open={open} onClose={onClose} title="Files in this conversation">
      {stored.isPending ? (
        <LoadingState label="Loading files" />
      ) : stored.error ? (
        <ErrorAlert onRetry={() => void stored.refetch()}>{errorMessage(stored.error)}</ErrorAlert>
      ) : files.length === 0 ? (
        <p className="card-description">No files on this device for this conversation.</p>
      ) : (
        <ul className="files-panel-list" aria-label="Files in this conversation">
          {files.map((m) => (
            <li key={m.id} className="files-panel-item">
              <div className="file-card-text">
                <span className="file-name">{m.file!.name}</span>
                <span className="file-size">
                  {formatBytes(m.file!.ptLength)} · from {m.sender.username} ·{' '}
                  <time dateTime={m.sentAt.toISOString()}>{formatAbsolute(m.sentAt)}</time>
                </span>
              </div>
              <div className="files-panel-actions">
                <button
                  type="button"
                  className="btn btn-secondary btn-small"
                  aria-label={`Show ${m.file!.name} in the conversation`}
                  onClick={() => onShow(m.id)}
                >
                  Show
                </button>
                <DownloadButton file={m.file!} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
