import fc from 'fast-check';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appRouter } from '../src/router.ts';
import {
  HOSTILE_STRINGS,
  RawJson,
  fuzzArbitrary,
  hostileArbitrary,
  mutantArbitrary,
  validArbitrary,
} from './zod-arbitrary.ts';
import { inputSchemas } from './trpc-wire.ts';

const SAMPLES = 300;
const sample = <T>(arbitrary: fc.Arbitrary<T>, numRuns = SAMPLES): T[] =>
  fc.sample(arbitrary, { numRuns, seed: 42 });

type Tree = { name: string; children: Tree[] };
const tree: z.ZodType<Tree> = z.lazy(() =>
  z.object({ name: z.string().min(1).max(8), children: z.array(tree).max(3) }),
);

/** One schema of every kind the walker knows; each must be satisfied by every valid sample. */
const schemas: Record<string, z.ZodType> = {
  'string bounds': z.string().min(3).max(10),
  'string regex': z.string().regex(/^[0-9a-f]{32}$/),
  'string regex + max': z
    .string()
    .max(20)
    .regex(/^[A-Za-z0-9_-]*$/),
  uuid: z.uuid(),
  email: z.email(),
  url: z.url(),
  'iso datetime': z.iso.datetime(),
  'iso date': z.iso.date(),
  ipv4: z.ipv4(),
  'starts/ends with': z.string().startsWith('ab').endsWith('yz'),
  'int bounds': z.number().int().min(-5).max(5),
  'int exclusive bounds': z.int().gt(0).lt(3),
  'safe int': z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  'uint32 prekey id': z.number().int().min(0).max(0xffffffff),
  'float bounds': z.number().min(-1.5).max(2.5),
  'float positive': z.number().positive(),
  'multiple of': z.number().int().multipleOf(5).min(0).max(100),
  bigint: z.bigint().min(-10n).max(10n),
  boolean: z.boolean(),
  date: z.date().min(new Date('2020-01-01')).max(new Date('2030-01-01')),
  literal: z.literal(['a', 1, true]),
  enum: z.enum(['admin', 'member']),
  'native enum': z.nativeEnum({ A: 0, B: 1, 0: 'A', 1: 'B' } as const),
  'object with optional and default': z.object({
    a: z.string(),
    b: z.number().optional(),
    c: z.boolean().default(false),
  }),
  'strict object': z.strictObject({ a: z.string() }),
  'loose object': z.looseObject({ a: z.string() }),
  'object with catchall': z.object({ a: z.string() }).catchall(z.number()),
  'array bounds': z.array(z.number().int()).min(2).max(4),
  'array length': z.array(z.string()).length(3),
  tuple: z.tuple([z.string(), z.number().int()], z.boolean()),
  'record string keys': z.record(z.string().regex(/^[a-z]{1,4}$/), z.number()),
  'record enum keys (exhaustive)': z.record(z.enum(['x', 'y']), z.boolean()),
  'partial record': z.partialRecord(z.enum(['x', 'y']), z.boolean()),
  map: z.map(z.string(), z.number()),
  set: z.set(z.string()),
  union: z.union([z.string().max(3), z.number().int()]),
  'discriminated union': z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('a'), a: z.string() }),
    z.object({ kind: z.literal('b'), b: z.number().int() }),
  ]),
  intersection: z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() })),
  optional: z.string().optional(),
  nullable: z.number().nullable(),
  'pipe with transform': z
    .string()
    .max(12)
    .regex(/^[A-Za-z0-9_-]*$/)
    .transform((value) => Buffer.from(value, 'base64url')),
  preprocess: z.preprocess((value) => value, z.number().int().min(1).max(9)),
  coerce: z.coerce.number().int().min(0).max(10),
  lazy: tree,
  'instanceof Date': z.instanceof(Date),
  'instanceof Uint8Array': z.instanceof(Uint8Array),
  'template literal': z.templateLiteral(['id-', z.number().int(), '-', z.enum(['a', 'b'])]),
  'refined string (satisfiable by retries)': z
    .string()
    .regex(/^[0-9]{1,2}$/)
    .refine((s) => Number(s) % 2 === 0),
  readonly: z.object({ a: z.string() }).readonly(),
  catch: z.number().catch(0),
  'null/undefined/nan': z.union([z.null(), z.undefined(), z.nan()]),
  unknown: z.unknown(),
};

describe('zod → fast-check walker', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`generates only accepted values for ${name}`, () => {
      const rejected = sample(validArbitrary(schema)).filter(
        (value) => !z.safeParse(schema, value).success,
      );
      // The refinement is satisfied by retrying; a handful of misses is the documented cost.
      const allowed = name.startsWith('refined') ? SAMPLES * 0.1 : 0;
      expect(rejected.length, `e.g. ${String(rejected[0])}`).toBeLessThanOrEqual(allowed);
    });
  }

  it('generates varied values, not one constant', () => {
    for (const name of ['string bounds', 'int bounds', 'array bounds', 'discriminated union']) {
      const values = new Set(sample(validArbitrary(schemas[name]!)).map((v) => JSON.stringify(v)));
      expect(values.size, name).toBeGreaterThan(4);
    }
  });

  it('reaches the bounds of numbers and arrays', () => {
    const ints = sample(validArbitrary(schemas['int bounds']!), 1000);
    expect(ints).toContain(-5);
    expect(ints).toContain(5);
    const lengths = sample(validArbitrary(z.array(z.number()).max(40)), 1000).map(
      (a) => (a as unknown[]).length,
    );
    expect(lengths).toContain(40);
  });

  it('offers known strings where the schema accepts them', () => {
    const id = 'ab'.repeat(16);
    const values = sample(
      validArbitrary(z.string().regex(/^[0-9a-f]{32}$/), { knownStrings: [id, 'not-an-id'] }),
    );
    expect(values).toContain(id);
    expect(values).not.toContain('not-an-id');
  });

  it('prefers known values filed under the field name', () => {
    const [mine, other] = ['ab'.repeat(16), 'cd'.repeat(16)];
    const schema = z.object({ conversationId: z.string().regex(/^[0-9a-f]{32}$/) });
    const values = sample(
      validArbitrary(schema, { knownStrings: [other], knownByKey: { conversationId: [mine] } }),
      1000,
    ).map((v) => (v as { conversationId: string }).conversationId);
    const count = (id: string) => values.filter((v) => v === id).length;
    expect(count(mine)).toBeGreaterThan(count(other) * 2);
    const users = sample(
      validArbitrary(z.object({ userIds: z.array(z.string()).min(1).max(3) }), {
        knownByKey: { userId: [mine] },
      }),
    ).flatMap((v) => (v as { userIds: string[] }).userIds);
    expect(users).toContain(mine);
  });

  it('plants hostile values and keys in mutant samples, most of which the schema rejects', () => {
    const schema = schemas['object with optional and default']!;
    const values = sample(mutantArbitrary(schema), 1000);
    const rejected = values.filter((v) => !z.safeParse(schema, v).success);
    expect(rejected.length).toBeGreaterThan(100);
    expect(values.some((v) => v && typeof v === 'object' && Object.hasOwn(v, '__proto__'))).toBe(
      true,
    );
    // `__proto__` stays an own key and never becomes the prototype.
    for (const value of values) {
      if (value && typeof value === 'object' && Object.hasOwn(value, '__proto__'))
        expect(Object.getPrototypeOf(value) === Object.prototype).toBe(true);
    }
  });

  it('produces hostile values of every family, including payloads at the body limit', () => {
    const limit = 64 * 1024;
    const values = sample(hostileArbitrary({ maxBodyBytes: limit }), 4000);
    const has = (predicate: (v: unknown) => boolean) => values.some(predicate);
    expect(has((v) => typeof v === 'number' && Number.isNaN(v))).toBe(true);
    expect(has((v) => Object.is(v, -0))).toBe(true);
    expect(has((v) => v === Number.MAX_SAFE_INTEGER + 1)).toBe(true);
    expect(has((v) => typeof v === 'bigint' && v > 2n ** 64n)).toBe(true);
    expect(has((v) => v === '\ud800')).toBe(true);
    expect(has((v) => typeof v === 'string' && v.length > limit)).toBe(true);
    expect(has((v) => typeof v === 'string' && v.length > limit / 2 && v.length < limit)).toBe(
      true,
    );
    const raw = values.filter((v): v is RawJson => v instanceof RawJson);
    expect(raw.some((r) => r.text.startsWith('{"a":'.repeat(10_000)))).toBe(true);
    // Nested as deep as fits just under the limit, and valid JSON all the same.
    const deepest = raw.reduce((a, b) => (a.text.length > b.text.length ? a : b));
    expect(deepest.text.length).toBeGreaterThan(limit - 8192);
    expect(deepest.text.length).toBeLessThan(limit);
    expect(() => JSON.parse(deepest.text)).not.toThrow();
    expect(HOSTILE_STRINGS.every((s) => typeof s === 'string')).toBe(true);
  });

  it('mixes valid, mutant and hostile inputs for every procedure, valid ones mostly accepted', () => {
    const procedures = Object.entries(appRouter._def.procedures);
    expect(procedures.length).toBeGreaterThan(30);
    let validTotal = 0;
    let acceptedTotal = 0;
    for (const [path, procedure] of procedures) {
      const schemas = inputSchemas(procedure);
      const inputs = sample(fuzzArbitrary(schemas), 200);
      const kinds = new Set(inputs.map((i) => i.kind));
      expect([...kinds].sort(), path).toEqual(['hostile', 'mutant', 'valid']);
      for (const input of inputs.filter((i) => i.kind === 'valid')) {
        validTotal += 1;
        // Every value must survive the wire, as the fuzz sends it.
        superjson.serialize(input.value);
        if (schemas.every((s) => z.safeParse(s, input.value).success)) acceptedTotal += 1;
      }
    }
    // Custom refinements (an exact decoded length) are the only misses.
    expect(acceptedTotal / validTotal).toBeGreaterThan(0.85);
  });
});
