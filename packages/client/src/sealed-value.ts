import { fromBase64Url, toBase64Url, utf8Decode, utf8Encode } from '@securechat/crypto';

/**
 * A tagged serialization of the values a KeyStore holds (plain objects, arrays, strings, numbers,
 * booleans, null, Uint8Arrays, Dates), so they can be sealed as bytes and come back with the same
 * types. JSON alone would turn a Uint8Array into an object of numbers and a Date into a string.
 *
 * Every non-primitive is wrapped in a one-letter tag, so no user data can be mistaken for a tag:
 * `{"a":[…]}` an array, `{"o":{…}}` an object, `{"b":"base64url"}` bytes, `{"d":ms}` a date,
 * `{"n":"NaN"}` a number JSON cannot hold, `{"u":0}` undefined (kept inside arrays).
 * CryptoKeys and other host objects are refused: they must stay in the store as themselves, where
 * the browser keeps a non-extractable key non-extractable.
 */
type Tagged =
  | string
  | number
  | boolean
  | null
  | { a: Tagged[] }
  | { o: Record<string, Tagged> }
  | { b: string }
  | { d: number }
  | { n: string }
  | { u: 0 };

function tag(value: unknown, path: string): Tagged {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Object.is(value, -0)) return { n: '-0' };
      return Number.isFinite(value) ? value : { n: String(value) };
    case 'undefined':
      return { u: 0 };
    case 'object':
      break;
    default:
      throw new TypeError(`${path}: a ${typeof value} cannot be sealed`);
  }
  if (value instanceof Uint8Array) return { b: toBase64Url(value) };
  if (value instanceof Date) return { d: value.getTime() };
  if (Array.isArray(value)) return { a: value.map((item, i) => tag(item, `${path}[${i}]`)) };
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`${path}: only plain objects, arrays, bytes and dates can be sealed`);
  }
  const out: Record<string, Tagged> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    // An absent optional property and one set to undefined read back the same; dropping it keeps
    // the bytes small.
    if (item !== undefined) out[key] = tag(item, `${path}.${key}`);
  }
  return { o: out };
}

function untag(value: Tagged): unknown {
  if (value === null || typeof value !== 'object') return value;
  if ('a' in value) return value.a.map(untag);
  if ('o' in value) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value.o)) out[key] = untag(item);
    return out;
  }
  if ('b' in value) return fromBase64Url(value.b);
  if ('d' in value) return new Date(value.d);
  if ('n' in value) return Number(value.n);
  if ('u' in value) return undefined;
  throw new TypeError('Not a sealed value');
}

/** Serializes a KeyStore value to bytes; {@link decodeValue} gives back the same types. */
export function encodeValue(value: unknown): Uint8Array {
  return utf8Encode(JSON.stringify(tag(value, 'value')), 'value');
}

/** The value {@link encodeValue} serialized. */
export function decodeValue(bytes: Uint8Array): unknown {
  return untag(JSON.parse(utf8Decode(bytes, 'value')) as Tagged);
}
