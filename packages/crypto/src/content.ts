/**
 * The content of a message (§3.6 "inside the E2EE content"): text, file references, edits,
 * reactions, calendar events and control messages (title, avatar, receipts, deletions).
 * Everything here is encrypted and signed; the server sees only the content type byte in the
 * header.
 *
 * Layout: `type u8 | body`, with bodies (all strings UTF-8 with a length prefix):
 * - text (1):     text str32 | has_reply u8 | [reply_to[16]]
 * - file (2):     FileRef | has_thumb u8 | [FileRef] | caption str32
 * - edit (3):     target[16] | text str32
 * - reaction (4): target[16] | emoji str16 | remove u8 (0/1)
 * - calendar (5): event_id[16] | revision u32 | deleted u8 | u32 n | n × (key str16 | value str32),
 *                 keys sorted and unique
 * - control (6):  kind u8 | body: title (1) str16 · avatar (2) has u8 [FileRef] ·
 *                 receipt (3) status u8 (1 delivered, 2 read) u32 n n × target[16] · delete (4) target[16]
 * - FileRef:      file_id[16] | key[32] | ct_length u64 | ct_sha256[32] | pt_length u64 | mime str16 | name str16
 *
 * @module
 */
import {
  Reader,
  Writer,
  checkBytes,
  checkList,
  checkString,
  compareBytes,
  utf8Decode,
  utf8Encode,
  type Bytes,
} from './encoding.ts';
import { InvalidInputError } from './errors.ts';
import { ID_LENGTH } from './identity.ts';

/** The content types of §3.6, in header byte order (text = 1 … control = 6). */
export const CONTENT_TYPES = ['text', 'file', 'edit', 'reaction', 'calendar', 'control'] as const;
/** A content type name. */
export type ContentType = (typeof CONTENT_TYPES)[number];

/** Largest encoded content accepted (before padding). */
export const MAX_CONTENT_BYTES = 256 * 1024;

/**
 * An encrypted attachment as described inside a message (§3.8): where the blob is, the key that
 * opens it, and what to check before opening (`ctSha256`, `ctLength`).
 */
export interface FileRef {
  fileId: Bytes;
  /** The per-file Cobblestone key `K_file` (32 bytes). */
  key: Bytes;
  ctLength: number;
  /** SHA-256 of the whole ciphertext blob, checked before decrypting so a swapped blob is refused. */
  ctSha256: Bytes;
  ptLength: number;
  mime: string;
  name: string;
}

/** Message content. Optional parts are `null` when absent, so a decode returns the same shape. */
export type Content =
  | { type: 'text'; text: string; replyTo: Bytes | null }
  | { type: 'file'; file: FileRef; thumbnail: FileRef | null; caption: string }
  | { type: 'edit'; target: Bytes; text: string }
  | { type: 'reaction'; target: Bytes; emoji: string; remove: boolean }
  | {
      type: 'calendar';
      eventId: Bytes;
      revision: number;
      deleted: boolean;
      fields: Record<string, string>;
    }
  | { type: 'control'; control: ControlContent };

/** Conversation control messages, kept inside E2EE (unlike Matrix room state). */
export type ControlContent =
  | { kind: 'title'; title: string }
  | { kind: 'avatar'; avatar: FileRef | null }
  | { kind: 'receipt'; status: 'delivered' | 'read'; targets: Bytes[] }
  | { kind: 'delete'; target: Bytes };

const CONTROL_KINDS = ['title', 'avatar', 'receipt', 'delete'] as const;

function writeFileRef(w: Writer, f: FileRef, label: string): void {
  if (!f || typeof f !== 'object') throw new InvalidInputError(`${label} must be a FileRef`);
  w.fixed(f.fileId, ID_LENGTH, `${label}.fileId`)
    .fixed(f.key, 32, `${label}.key`)
    .u64(f.ctLength, `${label}.ctLength`)
    .fixed(f.ctSha256, 32, `${label}.ctSha256`)
    .u64(f.ptLength, `${label}.ptLength`)
    .str16(f.mime, `${label}.mime`)
    .str16(f.name, `${label}.name`);
}

function readFileRef(r: Reader): FileRef {
  return {
    fileId: r.fixed(ID_LENGTH, 'fileId'),
    key: r.fixed(32, 'key'),
    ctLength: r.u64('ctLength'),
    ctSha256: r.fixed(32, 'ctSha256'),
    ptLength: r.u64('ptLength'),
    mime: r.str16('mime'),
    name: r.str16('name'),
  };
}

function readFlag(r: Reader, label: string): boolean {
  const v = r.u8(label);
  if (v > 1) throw new InvalidInputError(`${r.what}: ${label} must be 0 or 1`);
  return v === 1;
}

/** Canonical encoding of {@link Content}. Throws {@link InvalidInputError} naming the bad field. */
export function encodeContent(content: Content): Bytes {
  if (!content || typeof content !== 'object')
    throw new InvalidInputError('content must be an object');
  const type = CONTENT_TYPES.indexOf(content.type);
  if (type < 0)
    throw new InvalidInputError(`content.type must be one of ${CONTENT_TYPES.join(', ')}`);
  const w = new Writer().u8(type + 1);
  switch (content.type) {
    case 'text':
      w.str32(content.text, 'text');
      if (content.replyTo == null) w.u8(0);
      else w.u8(1).fixed(content.replyTo, ID_LENGTH, 'replyTo');
      break;
    case 'file':
      writeFileRef(w, content.file, 'file');
      if (content.thumbnail == null) w.u8(0);
      else {
        w.u8(1);
        writeFileRef(w, content.thumbnail, 'thumbnail');
      }
      w.str32(content.caption ?? '', 'caption');
      break;
    case 'edit':
      w.fixed(content.target, ID_LENGTH, 'target').str32(content.text, 'text');
      break;
    case 'reaction':
      w.fixed(content.target, ID_LENGTH, 'target')
        .str16(content.emoji, 'emoji')
        .u8(content.remove ? 1 : 0);
      break;
    case 'calendar': {
      w.fixed(content.eventId, ID_LENGTH, 'eventId')
        .u32(content.revision, 'revision')
        .u8(content.deleted ? 1 : 0);
      if (!content.fields || typeof content.fields !== 'object')
        throw new InvalidInputError('fields must be an object');
      // Sort by UTF-8 bytes so the encoding does not depend on object key order.
      const entries = Object.entries(content.fields).map(([k, v]) => {
        checkString(v, `fields.${k}`);
        return [utf8Encode(k, 'field name'), k, v] as const;
      });
      entries.sort((a, b) => compareBytes(a[0], b[0]));
      checkList(entries, 'fields', 1024);
      w.u32(entries.length);
      for (const [, k, v] of entries) w.str16(k, 'field name').str32(v, `fields.${k}`);
      break;
    }
    case 'control': {
      const c = content.control;
      const kind = CONTROL_KINDS.indexOf(c?.kind);
      if (kind < 0)
        throw new InvalidInputError(`control.kind must be one of ${CONTROL_KINDS.join(', ')}`);
      w.u8(kind + 1);
      if (c.kind === 'title') w.str16(c.title, 'title');
      else if (c.kind === 'avatar') {
        if (c.avatar == null) w.u8(0);
        else {
          w.u8(1);
          writeFileRef(w, c.avatar, 'avatar');
        }
      } else if (c.kind === 'receipt') {
        if (c.status !== 'delivered' && c.status !== 'read')
          throw new InvalidInputError("status must be 'delivered' or 'read'");
        checkList<Bytes>(c.targets, 'targets', 1000);
        w.u8(c.status === 'delivered' ? 1 : 2).u32(c.targets.length);
        for (const t of c.targets) w.fixed(t, ID_LENGTH, 'target');
      } else w.fixed(c.target, ID_LENGTH, 'target');
      break;
    }
  }
  if (w.length > MAX_CONTENT_BYTES)
    throw new InvalidInputError(`content must encode to at most ${MAX_CONTENT_BYTES} bytes`);
  return w.finish();
}

/** Strictly decode {@link Content}: unknown types, bad flags, unsorted fields or trailing bytes throw. */
export function decodeContent(bytes: Uint8Array): Content {
  checkBytes(bytes, 'content');
  if (bytes.length > MAX_CONTENT_BYTES) throw new InvalidInputError('content is too long');
  const r = new Reader(bytes, 'content');
  const type = CONTENT_TYPES[r.u8('type') - 1];
  let content: Content;
  switch (type) {
    case 'text': {
      const text = r.str32('text');
      content = {
        type,
        text,
        replyTo: readFlag(r, 'has_reply') ? r.fixed(ID_LENGTH, 'replyTo') : null,
      };
      break;
    }
    case 'file': {
      const file = readFileRef(r);
      const thumbnail = readFlag(r, 'has_thumb') ? readFileRef(r) : null;
      content = { type, file, thumbnail, caption: r.str32('caption') };
      break;
    }
    case 'edit':
      content = { type, target: r.fixed(ID_LENGTH, 'target'), text: r.str32('text') };
      break;
    case 'reaction':
      content = {
        type,
        target: r.fixed(ID_LENGTH, 'target'),
        emoji: r.str16('emoji'),
        remove: readFlag(r, 'remove'),
      };
      break;
    case 'calendar': {
      const eventId = r.fixed(ID_LENGTH, 'eventId');
      const revision = r.u32('revision');
      const deleted = readFlag(r, 'deleted');
      const n = r.u32('field count');
      if (n > 1024) throw new InvalidInputError('content: too many fields');
      const fields: Record<string, string> = Object.create(null) as Record<string, string>;
      let previous: Bytes | null = null;
      for (let i = 0; i < n; i++) {
        const keyBytes = r.vec16('field name');
        if (previous && compareBytes(previous, keyBytes) >= 0)
          throw new InvalidInputError('content: fields must be sorted and unique');
        previous = keyBytes;
        const key = utf8Decode(keyBytes, 'content: field name');
        fields[key] = r.str32('field value');
      }
      content = { type, eventId, revision, deleted, fields: { ...fields } };
      break;
    }
    case 'control': {
      const kind = CONTROL_KINDS[r.u8('control kind') - 1];
      let control: ControlContent;
      if (kind === 'title') control = { kind, title: r.str16('title') };
      else if (kind === 'avatar')
        control = { kind, avatar: readFlag(r, 'has_avatar') ? readFileRef(r) : null };
      else if (kind === 'receipt') {
        const s = r.u8('status');
        if (s !== 1 && s !== 2) throw new InvalidInputError('content: unknown receipt status');
        const n = r.u32('target count');
        if (n > 1000) throw new InvalidInputError('content: too many targets');
        const targets: Bytes[] = [];
        for (let i = 0; i < n; i++) targets.push(r.fixed(ID_LENGTH, 'target'));
        control = { kind, status: s === 1 ? 'delivered' : 'read', targets };
      } else if (kind === 'delete') control = { kind, target: r.fixed(ID_LENGTH, 'target') };
      else throw new InvalidInputError('content: unknown control kind');
      content = { type, control };
      break;
    }
    default:
      throw new InvalidInputError('content: unknown type');
  }
  r.end();
  return content;
}
