import fc from 'fast-check';
import { z } from 'zod';

/**
 * Fuzz inputs derived from zod 4 schemas: a walker over `schema._zod.def` that builds a
 * fast-check arbitrary for values the schema accepts ("valid"), the same shapes with hostile
 * values planted in them and extra keys ("mutant"), and schema-blind hostile values
 * ("hostile": boundary numbers, hostile strings, huge and deeply nested payloads).
 *
 * Valid generation is best effort: a custom refinement (say, "decodes to exactly 32 bytes") is
 * retried a few times and then given up on, so a valid sample is *mostly* valid. The fuzz needs
 * inputs that get past validation often enough to reach the handlers, not a proof.
 */

type Schema = z.core.$ZodType;
// A def is a union tagged by `type` (and a check's by `check`); the walker switches on the tag
// and reads the fields that tag has, which zod's public types do not narrow for it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Def = z.core.$ZodTypeDef & Record<string, any>;

/**
 * JSON text that is spliced into a request verbatim. Deeply nested payloads cannot be built as
 * values: `JSON.stringify` and superjson recurse and overflow the stack near depth 5,000, while
 * the server's `JSON.parse` does not; the payload must reach the server as text.
 */
export class RawJson {
  constructor(
    readonly text: string,
    readonly label: string,
  ) {}
  toString(): string {
    return `RawJson(${this.label})`;
  }
}

export interface ArbitraryOptions {
  /**
   * Real values (ids of existing rows, usernames) offered wherever a string schema accepts
   * them, so valid inputs reach existing data instead of always missing it.
   */
  knownStrings?: readonly string[];
  /**
   * Real values by the field name they belong under (`conversationId`, `userId`, `id`…),
   * preferred for a field of that name (or its singular, for arrays: `userIds` → `userId`), and
   * `id` values for any field named `…Id`.
   */
  knownByKey?: Readonly<Record<string, readonly string[]>>;
  /** The server's body limit: hostile payloads are sized just over and just under it. */
  maxBodyBytes?: number;
}

export type FuzzKind = 'valid' | 'mutant' | 'hostile';

export interface FuzzInput {
  kind: FuzzKind;
  value: unknown;
}

/** Every defined own property, including `__proto__`, as an ordinary own data property. */
function objectOf(entries: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Strings that have broken parsers, databases, loggers and renderers somewhere. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\u202egnp.exe',
  '\u200b\u200c\u200d\ufeff',
  'e\u0301'.repeat(500),
  '𝕳'.repeat(300),
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  "'; DROP TABLE users; --",
  "' OR '1'='1",
  '" OR ""="',
  '1; SELECT * FROM sessions',
  '../../../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '/dev/zero',
  'file:///etc/shadow',
  '%s%s%s%s%n',
  '%x%x%x%x',
  '{0}{1}{}',
  '${7*7}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-0',
  '0x7fffffff',
  '1e309',
  '9007199254740993',
  'true',
  '[]',
  '{}',
  '\r\n\r\nHTTP/1.1 200 OK\r\n',
  '%00',
  '%2e%2e%2f',
  'a'.repeat(33),
  'f'.repeat(32),
  'f'.repeat(64),
  'A'.repeat(64 * 1024),
];

/** Numbers at the edges of every representation a handler might assume. */
export const BOUNDARY_NUMBERS: readonly number[] = [
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  MAX_SAFE,
  MAX_SAFE + 1,
  MAX_SAFE + 2,
  -MAX_SAFE,
  -MAX_SAFE - 1,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -1,
  0.5,
  -0.5,
  1e-7,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  -(2 ** 31) - 1,
  2 ** 53,
  2 ** 63,
  2 ** 64,
];

export const HUGE_BIGINTS: readonly bigint[] = [
  0n,
  -1n,
  2n ** 53n + 1n,
  2n ** 63n,
  -(2n ** 63n) - 1n,
  2n ** 64n,
  10n ** 400n,
  -(10n ** 400n),
  2n ** 4096n,
];

const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  '',
  ' ',
  '\u0000',
  '$where',
  'json',
  'meta',
  'a'.repeat(1000),
];

const deepObjectText = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const deepArrayText = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Leaf values of the wrong kind and at the edges, for any position. */
function hostileLeaf(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 3, arbitrary: fc.constantFrom(...BOUNDARY_NUMBERS) },
    { weight: 1, arbitrary: fc.constantFrom(...HUGE_BIGINTS) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<unknown>(
        null,
        undefined,
        true,
        false,
        [],
        {},
        [null],
        new Date(Number.NaN),
        new Date(8.64e15),
        new Date(-8.64e15),
        /(a+)+$/,
        new Map([[{}, []]]),
        new Set([1, 'a']),
        new URL('http://[::1]:0/'),
      ),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.constantFrom('\ud800', '\udfff', '\u0000', '\u202e', 'a', '"', '\\'),
        maxLength: 40,
      }),
    },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

/** Hostile values of any shape: wrong types, hostile keys, huge and deeply nested payloads. */
export function hostileArbitrary(options: ArbitraryOptions = {}): fc.Arbitrary<unknown> {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const leaf = hostileLeaf();
  const hostileObject = fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string()), leaf), {
      maxLength: 6,
    })
    .map((entries) => objectOf(entries));
  return fc.oneof(
    { weight: 10, arbitrary: leaf },
    { weight: 4, arbitrary: hostileObject },
    { weight: 2, arbitrary: fc.array(leaf, { maxLength: 8 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        new RawJson(deepObjectText(100), 'object nested 100 deep'),
        new RawJson(deepArrayText(1_000), 'array nested 1,000 deep'),
        new RawJson(deepObjectText(10_000), 'object nested 10,000 deep'),
        new RawJson(deepArrayText(10_000), 'array nested 10,000 deep'),
      ),
    },
    {
      // Large payloads are costly to send, so they are rare; each still comes up many times.
      weight: 1,
      arbitrary: fc.constantFrom(
        new RawJson(
          deepArrayText(Math.floor((limit - 4096) / 2)),
          'array nested to the body limit',
        ),
        'x'.repeat(limit + 1),
        'y'.repeat(limit - 4096),
        new RawJson(
          `[${Array.from({ length: Math.floor((limit - 4096) / 2) }, () => 0).join(',')}]`,
          'array of numbers up to the body limit',
        ),
      ),
    },
  );
}

interface Walk {
  mutant: boolean;
  /** Lazy (recursive) schemas nested this deep are generated at their smallest. */
  depth: number;
  options: ArbitraryOptions;
  hostile: fc.Arbitrary<unknown>;
  /** The object field the value sits under (array elements inherit their array's). */
  key?: string;
}

/** Known values for a field name, most specific first. */
function knownFor(key: string | undefined, byKey: ArbitraryOptions['knownByKey']): string[] {
  if (!key || !byKey) return [];
  const singular = key.endsWith('s') ? key.slice(0, -1) : key;
  const names = [key, singular, ...(/Ids?$/.test(key) ? ['id'] : [])];
  return [...new Set(names.flatMap((name) => byKey[name] ?? []))];
}

const accepts = (schema: Schema, value: unknown) => z.safeParse(schema, value).success;

/**
 * Draws from `source` until `schema` accepts a value, at most `tries` times, then settles for
 * the last draw. (`filter` would loop for ever on an unsatisfiable refinement.) Fuzz inputs
 * are sampled, never shrunk, so this arbitrary does not shrink.
 */
class RetryArbitrary extends fc.Arbitrary<unknown> {
  constructor(
    private readonly source: fc.Arbitrary<unknown>,
    private readonly schema: Schema,
    private readonly tries: number,
  ) {
    super();
  }
  generate(random: fc.Random, biasFactor: number | undefined): fc.Value<unknown> {
    let value = this.source.generate(random, biasFactor);
    for (let i = 1; i < this.tries && !accepts(this.schema, value.value); i++) {
      value = this.source.generate(random, biasFactor);
    }
    return new fc.Value(value.value, undefined);
  }
  canShrinkWithoutContext(_value: unknown): _value is unknown {
    return false;
  }
  shrink(): fc.Stream<fc.Value<unknown>> {
    return fc.Stream.nil();
  }
}

const tryValid = (source: fc.Arbitrary<unknown>, schema: Schema, tries = 6) =>
  new RetryArbitrary(source, schema, tries);

interface Bounds {
  minimum?: number | bigint;
  maximum?: number | bigint;
  exclusiveMinimum?: number | bigint;
  exclusiveMaximum?: number | bigint;
  multipleOf?: number | bigint;
  format?: string;
  isInt: boolean;
  patterns: RegExp[];
  prefix?: string;
  suffix?: string;
  includes?: string;
  custom: boolean;
}

const numeric = (value: unknown) =>
  value instanceof Date ? value.getTime() : (value as number | bigint);

/** Folds a schema's checks (and the schema itself when it is a format check) into bounds. */
function boundsOf(schema: Schema): Bounds {
  const bounds: Bounds = { isInt: false, patterns: [], custom: false };
  const def = schema._zod.def as Def;
  const checks: Def[] = (def.checks ?? []).map((c) => c._zod.def as unknown as Def);
  if (schema._zod.traits.has('$ZodCheck')) checks.unshift(def);
  const min = (value: number | bigint, key: 'minimum' | 'exclusiveMinimum' = 'minimum') => {
    if (bounds[key] === undefined || value > bounds[key]!) bounds[key] = value;
  };
  const max = (value: number | bigint, key: 'maximum' | 'exclusiveMaximum' = 'maximum') => {
    if (bounds[key] === undefined || value < bounds[key]!) bounds[key] = value;
  };
  for (const check of checks) {
    switch (check.check) {
      case 'greater_than':
        min(numeric(check.value), check.inclusive ? 'minimum' : 'exclusiveMinimum');
        break;
      case 'less_than':
        max(numeric(check.value), check.inclusive ? 'maximum' : 'exclusiveMaximum');
        break;
      case 'multiple_of':
        bounds.multipleOf = check.value;
        break;
      case 'number_format':
      case 'bigint_format':
        bounds.format = check.format;
        if (String(check.format).includes('int')) bounds.isInt = true;
        break;
      case 'min_length':
      case 'min_size':
        min(check.minimum);
        break;
      case 'max_length':
      case 'max_size':
        max(check.maximum);
        break;
      case 'length_equals':
        min(check.length);
        max(check.length);
        break;
      case 'size_equals':
        min(check.size);
        max(check.size);
        break;
      case 'string_format':
        bounds.format = check.format;
        if (check.pattern instanceof RegExp) bounds.patterns.push(check.pattern);
        if (check.format === 'starts_with') bounds.prefix = check.prefix;
        if (check.format === 'ends_with') bounds.suffix = check.suffix;
        if (check.format === 'includes') bounds.includes = check.includes;
        break;
      case 'custom':
        bounds.custom = true;
        break;
    }
  }
  return bounds;
}

function stringArbitrary(schema: Schema, walk: Walk): fc.Arbitrary<unknown> {
  const b = boundsOf(schema);
  const minLength = Number(b.minimum ?? 0);
  const maxLength = Number(b.maximum ?? minLength + 64);
  const capped = Math.min(maxLength, minLength + 48);
  let base: fc.Arbitrary<string>;
  switch (b.format) {
    case 'uuid':
    case 'guid':
      base = fc.uuid();
      break;
    case 'url':
      base = fc.webUrl();
      break;
    case 'datetime':
      base = fc
        .date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
        .map((d) => d.toISOString());
      break;
    case 'date':
      base = fc
        .date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
      break;
    case 'ipv4':
      base = fc.ipV4();
      break;
    case 'ipv6':
      base = fc.ipV6();
      break;
    default:
      base = b.patterns[0]
        ? fc.stringMatching(b.patterns[0])
        : fc.oneof(
            fc.string({ minLength, maxLength: capped }),
            fc.string({ minLength, maxLength: capped, unit: 'grapheme' }),
          );
  }
  if (b.prefix !== undefined || b.suffix !== undefined || b.includes !== undefined) {
    const [prefix, suffix, includes] = [b.prefix ?? '', b.suffix ?? '', b.includes ?? ''];
    base = base.map((s) => `${prefix}${includes}${s}${suffix}`);
  }
  const choices: fc.WeightedArbitrary<unknown>[] = [{ weight: 8, arbitrary: base }];
  if (b.patterns.length === 0 && b.format === undefined && Number.isFinite(maxLength)) {
    // Exactly at each bound: off-by-one errors live there.
    choices.push({
      weight: 1,
      arbitrary: fc.constantFrom('a'.repeat(minLength), 'b'.repeat(Math.min(maxLength, 1 << 20))),
    });
  }
  const own = knownFor(walk.key, walk.options.knownByKey).filter((s) => accepts(schema, s));
  if (own.length > 0) choices.push({ weight: 12, arbitrary: fc.constantFrom(...own) });
  const known = (walk.options.knownStrings ?? []).filter((s) => accepts(schema, s));
  if (known.length > 0) choices.push({ weight: 3, arbitrary: fc.constantFrom(...known) });
  return tryValid(fc.oneof(...choices), schema);
}

function numberArbitrary(schema: Schema): fc.Arbitrary<unknown> {
  const b = boundsOf(schema);
  const isInt = b.isInt || (schema._zod.def as Def).type === 'int';
  const lo = Math.max(
    Number(b.minimum ?? -Number.MAX_VALUE),
    b.exclusiveMinimum === undefined
      ? -Number.MAX_VALUE
      : Number(b.exclusiveMinimum) + (isInt ? 1 : 0),
  );
  const hi = Math.min(
    Number(b.maximum ?? Number.MAX_VALUE),
    b.exclusiveMaximum === undefined
      ? Number.MAX_VALUE
      : Number(b.exclusiveMaximum) - (isInt ? 1 : 0),
  );
  let arbitrary: fc.Arbitrary<number>;
  if (isInt) {
    const low = Math.ceil(Math.max(lo, -MAX_SAFE));
    const high = Math.floor(Math.min(hi, MAX_SAFE));
    const small = { min: Math.max(low, -1000), max: Math.min(high, 1000) };
    // Counters, epochs, revisions and page sizes start small: most weight goes there.
    const tiny = { min: Math.max(low, 0), max: Math.min(high, 10) };
    arbitrary = fc.oneof(
      ...(tiny.min <= tiny.max ? [{ weight: 4, arbitrary: fc.integer(tiny) }] : []),
      ...(small.min <= small.max ? [{ weight: 4, arbitrary: fc.integer(small) }] : []),
      {
        weight: 2,
        arbitrary: fc.bigInt({ min: BigInt(low), max: BigInt(high) }).map(Number),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          ...[low, high, low + 1, high - 1, 0].filter((n) => n >= low && n <= high),
        ),
      },
    );
  } else {
    arbitrary = fc.double({
      min: lo,
      max: hi,
      noNaN: true,
      noDefaultInfinity: true,
      minExcluded: b.exclusiveMinimum !== undefined && Number(b.exclusiveMinimum) >= lo,
      maxExcluded: b.exclusiveMaximum !== undefined && Number(b.exclusiveMaximum) <= hi,
    });
  }
  if (b.multipleOf !== undefined) {
    const step = Number(b.multipleOf);
    arbitrary = arbitrary.map((n) => Math.round(n / step) * step);
  }
  return tryValid(arbitrary, schema);
}

function bigintArbitrary(schema: Schema): fc.Arbitrary<unknown> {
  const b = boundsOf(schema);
  const min =
    b.minimum !== undefined
      ? BigInt(b.minimum)
      : b.exclusiveMinimum !== undefined
        ? BigInt(b.exclusiveMinimum) + 1n
        : undefined;
  const max =
    b.maximum !== undefined
      ? BigInt(b.maximum)
      : b.exclusiveMaximum !== undefined
        ? BigInt(b.exclusiveMaximum) - 1n
        : undefined;
  return tryValid(
    fc.bigInt({ ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }),
    schema,
  );
}

function enumValues(entries: Record<string, unknown>): unknown[] {
  // A numeric TypeScript enum maps names to numbers and numbers back to names.
  const reverse = Object.keys(entries).filter(
    (k) => typeof entries[entries[k] as string] === 'number',
  );
  return Object.entries(entries)
    .filter(([k]) => !reverse.includes(k))
    .map(([, v]) => v);
}

function classInstance(Class: unknown): fc.Arbitrary<unknown> | null {
  switch (Class) {
    case Date:
      return fc.date({ noInvalidDate: true });
    case Uint8Array:
      return fc.uint8Array({ maxLength: 64 });
    case ArrayBuffer:
      return fc.uint8Array({ maxLength: 64 }).map((a) => a.buffer);
    case URL:
      return fc.webUrl().map((u) => new URL(u));
    case RegExp:
      return fc.constantFrom(/a/, /^b+$/i);
    case Map:
      return fc.array(fc.tuple(fc.string(), fc.integer())).map((e) => new Map(e));
    case Set:
      return fc.array(fc.string()).map((e) => new Set(e));
    default:
      return null;
  }
}

const anyValue = () =>
  fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.date({ noInvalidDate: true }), fc.bigInt());

function walkSchema(schema: Schema, walk: Walk): fc.Arbitrary<unknown> {
  const node = validNode(schema, walk);
  const withRefinements = boundsOf(schema).custom ? tryValid(node, schema) : node;
  if (!walk.mutant) return withRefinements;
  // One node in a dozen carries a hostile value instead.
  return fc.oneof(
    { weight: 12, arbitrary: withRefinements },
    { weight: 1, arbitrary: walk.hostile },
  );
}

function validNode(schema: Schema, walk: Walk): fc.Arbitrary<unknown> {
  const def = schema._zod.def as Def;
  const inner = (s: Schema) => walkSchema(s, walk);
  switch (def.type) {
    case 'string':
      return stringArbitrary(schema, walk);
    case 'number':
    case 'int':
      return numberArbitrary(schema);
    case 'bigint':
      return bigintArbitrary(schema);
    case 'boolean':
      return fc.boolean();
    case 'date': {
      const b = boundsOf(schema);
      return fc.date({
        noInvalidDate: true,
        ...(b.minimum !== undefined ? { min: new Date(Number(b.minimum)) } : {}),
        ...(b.maximum !== undefined ? { max: new Date(Number(b.maximum)) } : {}),
      });
    }
    case 'null':
      return fc.constant(null);
    case 'undefined':
    case 'void':
      return fc.constant(undefined);
    case 'nan':
      return fc.constant(Number.NaN);
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'enum':
      return fc.constantFrom(...enumValues(def.entries));
    case 'template_literal':
      return fc.stringMatching(schema._zod.pattern as RegExp);
    case 'any':
    case 'unknown':
      return anyValue();
    case 'object': {
      const shape = def.shape as Record<string, Schema>;
      const keys = Object.keys(shape);
      const fields = keys.map((key) => [key, walkSchema(shape[key]!, { ...walk, key })] as const);
      const required = keys.filter((key) => shape[key]!._zod.optin !== 'optional');
      const catchall = def.catchall as Schema | undefined;
      const extraValue =
        catchall && (catchall._zod.def as Def).type !== 'never' ? inner(catchall) : null;
      const extraKeys: fc.Arbitrary<[string, unknown][]> = walk.mutant
        ? fc.array(fc.tuple(fc.constantFrom(...HOSTILE_KEYS), walk.hostile), { maxLength: 2 })
        : extraValue
          ? fc.array(fc.tuple(fc.string({ maxLength: 8 }), extraValue), { maxLength: 2 })
          : fc.constant([]);
      const present = fc.tuple(
        ...fields.map(([key, arbitrary]) =>
          required.includes(key)
            ? arbitrary.map((value) => [key, value] as const)
            : fc
                .option(arbitrary, { nil: undefined, freq: 3 })
                .map((value) => [key, value] as const),
        ),
      );
      return fc
        .tuple(present, extraKeys)
        .map(([entries, extra]) =>
          objectOf([...extra.filter(([k]) => !keys.includes(k)), ...entries]),
        );
    }
    case 'array': {
      const b = boundsOf(schema);
      const minLength = Number(b.minimum ?? 0);
      const maxLength = Number(b.maximum ?? minLength + 64);
      const element = inner(def.element);
      if (walk.depth > 3) return fc.array(element, { minLength, maxLength: minLength });
      const choices: fc.WeightedArbitrary<unknown[]>[] = [
        {
          weight: 12,
          arbitrary: fc.array(element, {
            minLength,
            maxLength: Math.min(maxLength, minLength + 5),
          }),
        },
      ];
      // Full arrays, at the limit, now and then (only when the limit is modest). A few drawn
      // elements are repeated: drawing a thousand distinct ones would dominate the run.
      if (maxLength <= 2000 && maxLength > minLength + 5) {
        choices.push({
          weight: 1,
          arbitrary: fc
            .array(element, { minLength: 1, maxLength: 3 })
            .map((drawn) => Array.from({ length: maxLength }, (_, i) => drawn[i % drawn.length])),
        });
      }
      return fc.oneof(...choices);
    }
    case 'tuple': {
      const items = (def.items as Schema[]).map(inner);
      const rest = def.rest ? fc.array(inner(def.rest), { maxLength: 4 }) : fc.constant([]);
      return fc.tuple(fc.tuple(...items), rest).map(([head, tail]) => [...head, ...tail]);
    }
    case 'record': {
      const keyDef = (def.keyType as Schema)._zod.def as Def;
      const value = inner(def.valueType);
      const exhaustive = !def.partial && (keyDef.type === 'enum' || keyDef.type === 'literal');
      if (exhaustive) {
        const keys: string[] = (
          keyDef.type === 'enum' ? enumValues(keyDef.entries) : (keyDef.values as unknown[])
        ).map(String);
        return fc
          .tuple(...keys.map((key) => value.map((v): readonly [string, unknown] => [key, v])))
          .map((entries) => objectOf(entries));
      }
      const key = validNode(def.keyType, { ...walk, mutant: false }).map(String);
      return fc
        .array(fc.tuple(key, value), { maxLength: walk.depth > 3 ? 0 : 5 })
        .map((entries) => objectOf(entries));
    }
    case 'map':
      return fc
        .array(fc.tuple(inner(def.keyType), inner(def.valueType)), { maxLength: 4 })
        .map((entries) => new Map(entries));
    case 'set':
      return fc.array(inner(def.valueType), { maxLength: 4 }).map((values) => new Set(values));
    case 'union': {
      const options = def.options as Schema[];
      return walk.depth > 3 ? inner(options[0]!) : fc.oneof(...options.map(inner));
    }
    case 'intersection':
      return fc
        .tuple(inner(def.left), inner(def.right))
        .map(([left, right]) =>
          left &&
          right &&
          typeof left === 'object' &&
          typeof right === 'object' &&
          !Array.isArray(left)
            ? { ...left, ...right }
            : left,
        );
    case 'optional':
      return fc.option(inner(def.innerType), { nil: undefined, freq: 4 });
    case 'nullable':
      return fc.option(inner(def.innerType), { nil: null, freq: 4 });
    case 'default':
    case 'prefault':
      return fc.option(inner(def.innerType), { nil: undefined, freq: 4 });
    case 'nonoptional':
      return inner(def.innerType).filter((value) => value !== undefined);
    case 'catch':
    case 'readonly':
    case 'promise':
      return inner(def.innerType);
    case 'success':
      return anyValue();
    case 'pipe': {
      // A preprocess runs a transform first: what it accepts is what its output schema takes.
      const source = def.in as Schema;
      return (source._zod.def as Def).type === 'transform' ? inner(def.out) : inner(source);
    }
    case 'transform':
      return anyValue();
    case 'lazy': {
      const getter = def.getter as () => Schema;
      return fc
        .constant(null)
        .chain(() => walkSchema(getter(), { ...walk, depth: walk.depth + 1 }));
    }
    case 'custom':
      return classInstance(schema._zod.bag.Class) ?? anyValue();
    default:
      // symbol, function, file, never: nothing on the wire can satisfy them.
      return anyValue();
  }
}

/**
 * Values the schema accepts (best effort: see the module comment). `undefined` stands for a
 * procedure without input.
 */
export function validArbitrary(
  schema: Schema | undefined,
  options: ArbitraryOptions = {},
): fc.Arbitrary<unknown> {
  if (!schema) return fc.constant(undefined);
  return walkSchema(schema, { mutant: false, depth: 0, options, hostile: hostileLeaf() });
}

/** The schema's shapes with hostile values planted in about one node in twelve, plus extra keys. */
export function mutantArbitrary(
  schema: Schema | undefined,
  options: ArbitraryOptions = {},
): fc.Arbitrary<unknown> {
  if (!schema) return hostileArbitrary(options);
  return walkSchema(schema, { mutant: true, depth: 0, options, hostile: hostileLeaf() });
}

/**
 * Fuzz inputs for one procedure: half valid, three tenths mutant, one fifth schema-blind
 * hostile. A procedure may chain several `.input()` schemas; tRPC merges their objects.
 */
export function fuzzArbitrary(
  schemas: readonly Schema[],
  options: ArbitraryOptions = {},
): fc.Arbitrary<FuzzInput> {
  const merged = (build: (s: Schema) => fc.Arbitrary<unknown>) =>
    schemas.length === 0
      ? undefined
      : schemas.length === 1
        ? build(schemas[0]!)
        : fc
            .tuple(...schemas.map(build))
            .map((parts) =>
              parts.every((p) => p && typeof p === 'object')
                ? Object.assign({}, ...parts)
                : parts[0],
            );
  const valid = merged((s) => validArbitrary(s, options)) ?? fc.constant(undefined);
  const mutant = merged((s) => mutantArbitrary(s, options)) ?? hostileArbitrary(options);
  return fc.oneof(
    { weight: 5, arbitrary: valid.map((value) => ({ kind: 'valid' as const, value })) },
    { weight: 3, arbitrary: mutant.map((value) => ({ kind: 'mutant' as const, value })) },
    {
      weight: 2,
      arbitrary: hostileArbitrary(options).map((value) => ({ kind: 'hostile' as const, value })),
    },
  );
}
