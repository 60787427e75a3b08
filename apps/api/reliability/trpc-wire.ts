import { request, type Agent } from 'node:http';
import superjson from 'superjson';
import type { z } from 'zod';
import { appRouter } from '../src/router.ts';
import { RawJson } from './zod-arbitrary.ts';

/**
 * tRPC's HTTP wire spoken by hand, for tests that must send what no typed client would:
 * procedures found by walking the router, inputs encoded with superjson (or not at all), and
 * responses checked for tRPC's error shape.
 */

export type ProcedureType = 'query' | 'mutation' | 'subscription';

export interface ProcedureInfo {
  path: string;
  type: ProcedureType;
  /** The procedure's zod input schemas (tRPC merges several `.input()` objects). */
  inputs: z.core.$ZodType[];
}

interface ProcedureLike {
  _def: { type: ProcedureType; inputs: unknown[] };
}

const isZod = (parser: unknown): parser is z.core.$ZodType =>
  typeof parser === 'object' && parser !== null && '_zod' in parser;

/** The zod schemas a procedure validates its input with. */
export function inputSchemas(procedure: unknown): z.core.$ZodType[] {
  return (procedure as ProcedureLike)._def.inputs.filter(isZod);
}

/** Every procedure of the API, found from the router itself so new ones are never missed. */
export function listProcedures(): ProcedureInfo[] {
  return Object.entries(appRouter._def.procedures).map(([path, procedure]) => ({
    path,
    type: (procedure as unknown as ProcedureLike)._def.type,
    inputs: inputSchemas(procedure),
  }));
}

/**
 * An input as tRPC's superjson wire sends it; a top-level RawJson goes out verbatim. superjson
 * refuses to encode an own `__proto__` key, but an attacker's client need not: such values go
 * out as plain JSON inside the envelope.
 */
export function encodeInput(value: unknown): string {
  if (value instanceof RawJson) return `{"json":${value.text}}`;
  try {
    return JSON.stringify(superjson.serialize(value));
  } catch {
    const json = JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    return `{"json":${json ?? 'null'}}`;
  }
}

/**
 * Bodies no superjson client would send: broken JSON, plain JSON without the envelope, and
 * superjson metadata that lies about the values it annotates.
 */
export const RAW_BODIES: readonly string[] = [
  '',
  '{',
  'null',
  '[]',
  '"json"',
  '1e999',
  '{"json":',
  '{"username":"a","password":"b"}',
  '{"json":{"a":1},"meta":{"values":{"__proto__.x":["Date"]}}}',
  '{"json":{"a":1},"meta":{"values":{"constructor.prototype":["Date"]}}}',
  '{"json":{"a":1},"meta":{"values":{"a":["class","Foo"]}}}',
  '{"json":{"a":1},"meta":{"values":{"a":["custom","Nope"]}}}',
  '{"json":{"a":"x"},"meta":{"values":{"a":["bigint"]}}}',
  '{"json":{"a":"x"},"meta":{"values":{"a":["Date"]}}}',
  '{"json":{"a":"[a-"},"meta":{"values":{"a":["regexp"]}}}',
  '{"json":{"a":1},"meta":{"values":{"a":["set"]}}}',
  '{"json":{"a":[[1]]},"meta":{"values":{"a":["map"]}}}',
  '{"json":{"a":{"b":1}},"meta":{"referentialEqualities":{"a":["a.b"]}}}',
  '{"json":{"a":{}},"meta":{"referentialEqualities":{"a":["a.a"]}}}',
  '{"json":{"a":1},"meta":{"values":{"a.b.c.d":["Date"]}}}',
  '{"json":{"a":1},"meta":{"values":5}}',
  '{"json":{"a":1},"meta":"x"}',
  '{"json":[],"meta":{"values":{"0":["undefined"]},"v":99}}',
  '{"json":{"a":1},"meta":{"values":["Date"]}}',
  `{"json":{"a":${'['.repeat(5000)}${']'.repeat(5000)}},"meta":{"values":{"a":["set"]}}}`,
];

export interface WireResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface WireRequest {
  method: 'GET' | 'POST';
  path: string;
  /** JSON text of the input; for GET it goes into the `input` query parameter. */
  input?: string;
  token?: string;
  headers?: Record<string, string>;
  /** Gives up on a response after this long (a subscription's event stream, say). */
  timeoutMs?: number;
}

/** Sends one tRPC call over keep-alive HTTP and reads the whole response. */
export function sendCall(base: string, agent: Agent, call: WireRequest): Promise<WireResponse> {
  const query = call.method === 'GET' && call.input !== undefined;
  const url = `${base}/trpc/${call.path}${query ? `?input=${encodeURIComponent(call.input!)}` : ''}`;
  const body = call.method === 'POST' ? Buffer.from(call.input ?? '') : null;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: call.method,
        agent,
        headers: {
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
          ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
          ...call.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    if (call.timeoutMs) {
      req.setTimeout(call.timeoutMs, () =>
        req.destroy(new Error(`no complete response in ${call.timeoutMs} ms`)),
      );
    }
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** A tRPC error as it travels (superjson-wrapped): `{ json: { message, code, data } }`. */
export function errorCodeOf(error: unknown): string | null {
  const json = (error as { json?: unknown } | null)?.json as
    | { message?: unknown; code?: unknown; data?: { code?: unknown; httpStatus?: unknown } }
    | undefined;
  if (
    !json ||
    typeof json.message !== 'string' ||
    typeof json.code !== 'number' ||
    typeof json.data?.code !== 'string' ||
    typeof json.data.httpStatus !== 'number'
  ) {
    return null;
  }
  return json.data.code;
}

/**
 * What a response says, checked against tRPC's shapes: `ok` for a result, the error code for a
 * well-formed error, or a description of what is wrong with it.
 */
export function classify(
  response: WireResponse,
): { ok: true } | { code: string } | { bad: string } {
  if (response.contentType.startsWith('text/event-stream')) {
    // A subscription asked for over HTTP: the stream must carry only a typed error and end.
    const events = [...response.body.matchAll(/^event: (.*)\ndata: (.*)$/gm)];
    const error = events.find(([, name]) => name === 'serialized-error');
    if (!error) return { bad: `event stream without an error: ${response.body.slice(0, 200)}` };
    if (events.some(([, name]) => name !== 'connected' && name !== 'serialized-error')) {
      return { bad: `event stream delivered data: ${response.body.slice(0, 200)}` };
    }
    const code = errorCodeOf(JSON.parse(error[2]!));
    return code ? { code } : { bad: `malformed stream error: ${error[2]!.slice(0, 200)}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    return { bad: `status ${response.status}, body not JSON: ${response.body.slice(0, 200)}` };
  }
  const envelope = parsed as { result?: unknown; error?: unknown };
  if (response.status >= 200 && response.status < 300 && envelope.result !== undefined) {
    return { ok: true };
  }
  const code = errorCodeOf(envelope.error);
  if (!code)
    return { bad: `status ${response.status}, not a tRPC error: ${response.body.slice(0, 200)}` };
  return { code };
}
