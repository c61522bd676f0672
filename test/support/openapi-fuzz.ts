import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { OPENAPI_SPEC_PATH } from '../../src/openapi/openapi-document.js';

/**
 * Request generators for test/openapi-fuzz.e2e-spec.ts, built from the committed OpenAPI document:
 * hostile strings and JSON values, header values HTTP can carry, percent-encoded path segments and
 * query strings (so control characters and invalid UTF-8 still reach the service), and bodies that
 * follow an operation's requestBody schema closely enough for some writes to succeed.
 */

export interface Schema {
  type?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  $ref?: string;
  allOf?: Schema[];
  nullable?: boolean;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface Operation {
  /** Lower case, as supertest names them: get, post, patch, put, delete. */
  method: string;
  /** The OpenAPI path, with `{name}` placeholders. */
  path: string;
  parameters: Parameter[];
  body?: Schema;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>
  >;
  components: { schemas: Record<string, Schema> };
}

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function loadOpenApi(): { operations: Operation[]; resolve: (schema: Schema) => Schema } {
  const doc = JSON.parse(readFileSync(OPENAPI_SPEC_PATH, 'utf8')) as OpenApiDocument;
  const resolve = (schema: Schema): Schema => {
    if (schema.$ref) return resolve(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]);
    if (schema.allOf?.length === 1) return { ...resolve(schema.allOf[0]), nullable: schema.nullable };
    return schema;
  };
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!HTTP_METHODS.includes(method)) continue;
      const schema = op.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method,
        path,
        parameters: op.parameters ?? [],
        body: schema ? resolve(schema) : undefined,
      });
    }
  }
  return { operations, resolve };
}

/** Mostly one of the first few (the seeded objects), sometimes any. */
const knownIndex = fc.oneof(fc.nat({ max: 5 }), fc.nat());

/** A value known only when the request is sent: an id from the pools of existing objects. */
export class Known {
  constructor(
    readonly kind: PoolKind | 'rule_version',
    readonly index: number,
  ) {}
}

/** Objects that exist (seeded, or seen in answers), and the cursors each list issued. */
export type PoolKind = 'delivery' | 'endpoint' | 'rule' | 'anomaly' | 'job' | 'tenant' | 'cursor';

/** A path segment or query value: text to percent-encode, or raw text sent as is (malformed escapes). */
export type UrlPart = { text: string | Known } | { raw: string };

export type BodyPart =
  | { kind: 'json'; value: unknown; contentType: string; contentEncoding?: string }
  | { kind: 'raw'; payload: string | Buffer; contentType?: string };

export interface FuzzRequest {
  path: Record<string, UrlPart>;
  query: [string, UrlPart][];
  headers: Record<string, string>;
  body?: BodyPart;
}

export const TENANTS = ['acme', 'globex', 'initech'];
export const URLS = [
  'https://hooks.acme.example/in',
  'https://globex.example/webhooks',
  'http://initech.example:8080/h',
];
/** A well-formed id no object has. */
export const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';
const ROLE_SETS = ['operator', 'admin', 'ingest', 'admin,operator', 'Operator , ingest'];

// ---------------------------------------------------------------------------------------------
// Hostile strings and values

const METACHARACTERS = [
  "'",
  '"',
  ';',
  '--',
  '/*',
  '*/',
  '\\',
  '{',
  '}',
  '[',
  ']',
  '%',
  '%%',
  "' OR '1'='1",
  "'; DROP TABLE deliveries; --",
  '" OR ""="',
  "1' UNION SELECT * FROM events --",
  '\\"}]',
  '%00',
  '%s%n%x',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'prototype',
  '../../etc/passwd',
  '..',
  '.',
  '*',
  '?',
  '#',
  '&',
  '=',
  '+',
  ',',
  ' ',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '{"$gt":""}',
  'audit.*',
  'a,b,,c,',
];
const UNICODE = [
  '😀',
  '👩‍👩‍👧‍👦',
  '\u202Eevil\u202C',
  'مرحبا بالعالم',
  'שלום',
  '\u200F\u200E',
  '\u200B',
  '\uFEFF',
  'e\u0301',
  'Ω≈ç√∫',
  '𝕏𝕐',
  '\uFFFD',
  '\uFFFF',
  '\u{10FFFF}',
  'Ａ',
  'İ',
];
const CONTROL = [
  '\u0000',
  'a\u0000b',
  '\n',
  '\r',
  '\r\n',
  'line\r\n{"level":"ERROR","message":"request completed"}',
  '\t',
  '\u0008',
  '\u001b[31mred',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
];
/** Lone surrogates: not valid UTF-16, sent as their (invalid) UTF-8 bytes or JSON \u escapes. */
const LONE_SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF', 'a\uD800b', '\uDC00\uD800'];
const NUMBER_STRINGS = [
  '1e308',
  '-1e308',
  '1e309',
  '-1',
  '0',
  '-0',
  '9007199254740993',
  '18446744073709551616',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x1F',
  '1.5',
  '1,5',
  '007',
  '',
  ' 1 ',
  '2147483648',
  '-2147483649',
  '1e3',
];
const DATES = [
  '0000-01-01T00:00:00Z',
  '0000-00-00T00:00:00Z',
  '99999-01-01T00:00:00Z',
  '+099999-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '2026-13-45T00:00:00Z',
  '2026-02-30T12:00:00Z',
  '2026-11-26T24:00:00Z',
  '2026-11-26T23:59:60Z',
  '2026-11-26T99:99:99+99:99',
  '9999-12-31T23:59:59.999Z',
  '0001-01-01T00:00:00Z',
  '0001-01-01T00:00:00+14:00',
  '1970-01-01T00:00:00Z',
  '1969-12-31T23:59:59.999-23:59',
  '2026-11-26',
  '2026-11-26T10:00:00',
  '2026-11-26T10:00:00.123456789Z',
  '275760-09-13T00:00:00Z',
  '+275760-09-13T00:00:00.001Z',
];

/** One of the constants, each family as likely as the others (there are far more metacharacters than NULs). */
const hostileConstant = fc.oneof(
  ...[METACHARACTERS, UNICODE, CONTROL, LONE_SURROGATES, NUMBER_STRINGS, DATES].map((family) =>
    fc.constantFrom(...family),
  ),
);

/** A long string whose percent-encoded form stays within `encodedBudget` characters. */
function oversize(encodedBudget: number): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(129, 201, 301, 1001, 2049, 5000, 20_000, 70_000),
      fc.constantFrom('x', 'é', '😀', "'", '\u0000'),
    )
    .map(([n, unit]) => unit.repeat(Math.min(n, Math.floor(encodedBudget / encodedLength(unit)))));
}

/** Strings that break parsers, validators, SQL, JSON and logs. */
export function hostileString(encodedBudget = 200_000): fc.Arbitrary<string> {
  const piece = fc.oneof(
    hostileConstant,
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom(...TENANTS, ...URLS, 'operator', 'invoice.paid', NO_SUCH_ID),
  );
  return fc.oneof(
    { weight: 5, arbitrary: hostileConstant },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 3, arbitrary: fc.array(piece, { minLength: 2, maxLength: 5 }).map((p) => p.join('')) },
    { weight: 1, arbitrary: oversize(encodedBudget) },
  );
}

const HOSTILE_NUMBERS = [
  1e308,
  -1e308,
  -1,
  0,
  -0,
  2 ** 53 + 1,
  -(2 ** 53) - 1,
  Number.MAX_SAFE_INTEGER,
  1.5,
  0.1,
  5e-324,
  2147483648,
  -2147483649,
  4294967296,
  1e21,
];

/** Any JSON value, biased towards wrong types and extremes. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    { weight: 4, arbitrary: hostileString(100_000) },
    { weight: 3, arbitrary: fc.constantFrom<unknown>(...HOSTILE_NUMBERS, true, false, null) },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileKey(), tie('value'), { maxKeys: 4 }) },
  ),
})).value;

function hostileKey(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      'tenant_id',
      'id',
      'admin',
      'roles',
      'secret',
      'constructor',
      'prototype',
      '',
      ' ',
      '$where',
      'a.b',
    ),
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
}

/** Deep nesting: `[[[...]]]` or `{"a":{"a":...}}`, as raw JSON text. */
function deeplyNested(depth: number, asObject: boolean): string {
  return asObject ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth);
}

// ---------------------------------------------------------------------------------------------
// Encoding for the wire

/** Encodes a string as a URL component: every byte but unreserved ASCII as %XX, lone surrogates too. */
export function percentEncode(value: string): string {
  let out = '';
  for (const ch of value) {
    if (/^[A-Za-z0-9_~-]$/.test(ch)) {
      out += ch;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    const bytes =
      cp >= 0xd800 && cp <= 0xdfff
        ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)] // WTF-8: invalid UTF-8
        : [...Buffer.from(ch, 'utf8')];
    for (const b of bytes) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function encodedLength(value: string): number {
  return percentEncode(value).length;
}

/**
 * Any string as an HTTP header value: its UTF-8 bytes sent as Latin-1 (what HTTP/1.1 carries), and
 * the bytes Node refuses in a header (controls other than tab) percent-encoded instead.
 */
export function headerSafe(value: string): string {
  return Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Percent sequences sent as they are: not UTF-8, overlong, truncated, or not escapes at all. */
const MALFORMED_ESCAPES = [
  '%',
  '%zz',
  '%E0%A4',
  '%ED%A0%80',
  '%C0%AE',
  '%00',
  '%2F',
  '%2e%2e',
  '%25',
  '%FF%FE',
  '%u0041',
];

// ---------------------------------------------------------------------------------------------
// Headers

function optional<T>(arb: fc.Arbitrary<T>, absentWeight: number, presentWeight: number): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: absentWeight, arbitrary: fc.constant(undefined) },
    { weight: presentWeight, arbitrary: arb },
  );
}

const hostileHeader = (budget: number) => hostileString(budget).map(headerSafe);

const rolesHeader = fc.oneof(
  { weight: 14, arbitrary: fc.constantFrom(...ROLE_SETS) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.constantFrom('operator', 'ADMIN', ' ingest ', 'viewer', 'root', 'admin-ish', '', 'Operator\t'), {
        maxLength: 5,
      })
      .map((roles) => roles.join(',')),
  },
  { weight: 2, arbitrary: hostileHeader(1000) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', ',,,', 'operator,'.repeat(600), 'x'.repeat(5000)) },
);

const tenantHeader = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TENANTS, ' acme ', 'ACME', 'acme:eu-1') },
  { weight: 2, arbitrary: hostileHeader(600) },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(128), 'a'.repeat(129), '-acme', 'acme corp;drop') },
);

const requestIdHeader = fc.oneof(
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/) },
  { weight: 2, arbitrary: hostileHeader(600) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'r'.repeat(128),
      'r'.repeat(129),
      'id%0D%0A{"level":"ERROR"}',
      '{"message":"request completed"}',
      '',
    ),
  },
);

function proxySecretHeader(secret: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 14, arbitrary: fc.constant(secret) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom(`${secret}x`, secret.slice(0, -1), secret.toUpperCase(), ''),
        hostileHeader(600),
      ),
    },
  );
}

function headers(secret: string, extra: Parameter[]): fc.Arbitrary<Record<string, string>> {
  const extraHeaders = Object.fromEntries(
    extra.map((p) => [
      p.name,
      optional(fc.oneof(fc.stringMatching(/^\d{1,16}$/), hostileHeader(600), fc.constantFrom('-1', '1e3', '')), 1, 1),
    ]),
  );
  return fc
    .record({
      'X-User-Roles': optional(rolesHeader, 1, 9),
      'X-User-Tenant': optional(tenantHeader, 5, 3),
      'X-Auth-Proxy-Secret': proxySecretHeader(secret),
      'X-Request-Id': optional(requestIdHeader, 3, 2),
      'User-Agent': optional(hostileHeader(600), 3, 1),
      'X-Forwarded-For': optional(
        fc.oneof(fc.constantFrom('1.2.3.4, 10.0.0.1', '::1', 'unknown'), hostileHeader(200)),
        6,
        1,
      ),
      ...extraHeaders,
    })
    .map((h) => Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined)));
}

// ---------------------------------------------------------------------------------------------
// Path and query

/** What kind of object a path parameter names, from the path it is in. */
function poolFor(path: string, name: string): PoolKind {
  if (name === 'tenant_id') return 'tenant';
  if (name === 'jobId') return 'job';
  if (path.startsWith('/alerts/deliveries')) return 'delivery';
  if (path.startsWith('/alerts/endpoints')) return 'endpoint';
  if (path.startsWith('/autoheal/rules')) return 'rule';
  if (path.startsWith('/anomalies')) return 'anomaly';
  throw new Error(`no id pool for ${name} in ${path}`);
}

function urlHostile(budget: number): fc.Arbitrary<UrlPart> {
  return fc.oneof(
    { weight: 4, arbitrary: hostileString(budget).map((text): UrlPart => ({ text })) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_ESCAPES).map((raw): UrlPart => ({ raw })) },
  );
}

function pathParam(path: string, name: string): fc.Arbitrary<UrlPart> {
  const kind = poolFor(path, name);
  return fc.oneof(
    { weight: 5, arbitrary: knownIndex.map((i): UrlPart => ({ text: new Known(kind, i) })) },
    { weight: 1, arbitrary: fc.uuid().map((text): UrlPart => ({ text })) },
    { weight: 4, arbitrary: urlHostile(2500) },
  );
}

const ISO_NOW = Date.now();
const isoDate = (fromDays: number, toDays: number) =>
  fc
    .date({
      min: new Date(ISO_NOW + fromDays * 86_400_000),
      max: new Date(ISO_NOW + toDays * 86_400_000),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString());

/** Values a service would accept for a parameter or property of this name (a hint the schema lacks). */
function hintFor(name: string, path: string): fc.Arbitrary<unknown> | undefined {
  switch (name) {
    case 'tenant_id':
      return fc.constantFrom(...TENANTS);
    case 'url':
    case 'endpoint_url':
      return fc.constantFrom(...URLS);
    case 'endpoint_url_prefix':
      return fc.constantFrom('https://', 'https://hooks.acme.example/', null);
    case 'event_type':
      return fc.constantFrom('invoice.paid', 'user.created');
    case 'idempotency_key':
      return fc.stringMatching(/^[\x21-\x7e]{1,24}$/);
    case 'secret':
      return fc.uint8Array({ minLength: 24, maxLength: 48 }).map((b) => `whsec_${Buffer.from(b).toString('base64')}`);
    case 'since':
    case 'start_time':
      return isoDate(-10, 0);
    case 'until':
    case 'end_time':
      return isoDate(0, 3);
    case 'name':
      return fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,24}$/);
    case 'message':
    case 'note':
    case 'reason':
    case 'description':
    case 'assignee':
      return fc.oneof(
        fc.constantFrom('failing over the EU receiver', 'receiver fixed'),
        fc.string({ minLength: 1, maxLength: 60 }),
      );
    case 'payload':
      return fc.jsonValue({ maxDepth: 3 }).filter((v) => v !== null);
    case 'params':
      return fc.constant({});
    case 'version':
      return fc.oneof(
        { weight: 4, arbitrary: fc.constant(new Known('rule_version', 0)) },
        fc.integer({ min: 1, max: 5 }),
      );
    case 'threshold':
      return fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 1000 }));
    case 'status':
      return path.startsWith('/anomalies')
        ? fc.constantFrom('open', 'triaged', 'resolved', 'open,resolved')
        : fc.constantFrom('failed', 'pending', 'success', 'failed,pending');
    case 'kind':
      return fc.constantFrom('failure_spike', 'latency_spike', 'volume_drop', 'failure_spike,volume_drop');
    case 'outcome':
      return fc.constantFrom('fired', 'would_fire', 'suppressed_cooldown', 'suppressed_budget', 'action_failed');
    case 'type':
    case 'types':
      return fc.constantFrom('audit.*', 'delivery.*', 'operator.annotation', 'audit.*,delivery.failed');
    case 'cursor':
      return knownIndex.map((i) => new Known('cursor', i));
    case 'rule_id':
      return knownIndex.map((i) => new Known('rule', i));
    case 'endpoint_id':
      return knownIndex.map((i) => new Known('endpoint', i));
    case 'last_event_id':
      return fc.stringMatching(/^\d{1,6}$/);
    default:
      return undefined;
  }
}

/** Cursors are base64url JSON: forge ones whose content is hostile, so they pass the decoding. */
const craftedCursor = fc
  .record({
    t: fc.oneof(
      fc.constantFrom(...DATES, '-271821-04-20T00:00:00.000Z', '+275760-09-13T00:00:00.000Z'),
      hostileString(200),
    ),
    id: fc.oneof(hostileString(200), fc.constantFrom<unknown>(...HOSTILE_NUMBERS, null, [], {})),
  })
  .map((c) => Buffer.from(JSON.stringify(c), 'utf8').toString('base64url'));

/** A value that follows the schema (and the name hints), so some requests pass validation. */
export function fromSchema(
  schema: Schema,
  resolve: (s: Schema) => Schema,
  path: string,
  name = '',
  depth = 0,
): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const base = ((): fc.Arbitrary<unknown> => {
    if (s.enum) return fc.constantFrom(...s.enum);
    const hint = hintFor(name, path);
    if (hint && !(s.type === 'object' && s.properties)) return hint;
    switch (s.type) {
      case 'object': {
        if (!s.properties || depth > 4) return fc.constant({});
        const model = Object.fromEntries(
          Object.entries(s.properties).map(([key, prop]) => [key, fromSchema(prop, resolve, path, key, depth + 1)]),
        );
        return fc.record(model, { requiredKeys: s.required ?? [] });
      }
      case 'array':
        return fc.array(fromSchema(s.items ?? {}, resolve, path, name, depth + 1), {
          minLength: 1,
          maxLength: Math.min(s.maxItems ?? 3, 3),
        });
      case 'number':
      case 'integer':
        return fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 1000, (s.minimum ?? 0) + 1000) });
      case 'boolean':
        return fc.boolean();
      case 'string':
        return fc.string({ minLength: 1, maxLength: Math.min(s.maxLength ?? 40, 40) });
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  })();
  return s.nullable ? fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: base }) : base;
}

function validQueryValue(param: Parameter, resolve: (s: Schema) => Schema, path: string): fc.Arbitrary<UrlPart> {
  return fromSchema(param.schema ?? { type: 'string' }, resolve, path, param.name).map((v): UrlPart => ({
    text: v instanceof Known ? v : Array.isArray(v) ? v.join(',') : String(v as string),
  }));
}

function queryValue(param: Parameter, resolve: (s: Schema) => Schema, path: string): fc.Arbitrary<UrlPart[]> {
  const valid = validQueryValue(param, resolve, path);
  const hostile =
    param.name === 'cursor'
      ? fc.oneof(
          urlHostile(1500),
          craftedCursor.map((text): UrlPart => ({ text })),
        )
      : urlHostile(1500);
  return fc.oneof(
    { weight: 5, arbitrary: valid.map((v) => [v]) },
    { weight: 4, arbitrary: hostile.map((v) => [v]) },
    { weight: 1, arbitrary: fc.array(fc.oneof(valid, urlHostile(300)), { minLength: 2, maxLength: 3 }) },
  );
}

/** Half the time every value follows the schema (so lists and filters answer 200), else anything goes. */
function query(op: Operation, resolve: (s: Schema) => Schema): fc.Arbitrary<[string, UrlPart][]> {
  const params = op.parameters.filter((p) => p.in === 'query');
  const required = params.filter((p) => p.required).map((p) => p.name);
  const validModel = Object.fromEntries(
    params.map((p) => [p.name, validQueryValue(p, resolve, op.path).map((v) => [v])]),
  );
  const mixedModel = Object.fromEntries(params.map((p) => [p.name, queryValue(p, resolve, op.path)]));
  const unknownKeys = fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('foo', '__proto__', 'constructor', 'limit[]', 'a[b]', 'tenant_id[$ne]'),
        hostileString(60),
      ),
      urlHostile(200),
    ),
    { maxLength: 2 },
  );
  const mixed = fc.tuple(
    fc.record(mixedModel, { requiredKeys: [] }),
    fc.oneof({ weight: 6, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: unknownKeys }),
  );
  // skip and cursor are exclusive (a 400): in a valid query, the cursor wins.
  const valid = fc.tuple(
    fc
      .record(validModel, { requiredKeys: required })
      .map(({ skip, ...rest }) => (rest.cursor ? rest : { skip, ...rest })),
    fc.constant([]),
  );
  return fc
    .oneof(valid, mixed)
    .map(([known, unknown]: [Partial<Record<string, UrlPart[]>>, readonly [string, UrlPart][]]) => [
      ...Object.entries(known).flatMap(([key, values]) => (values ?? []).map((v): [string, UrlPart] => [key, v])),
      ...unknown,
    ]);
}

// ---------------------------------------------------------------------------------------------
// Bodies

const RAW_BODIES: (string | Buffer)[] = [
  '',
  ' ',
  '{',
  '{"a":',
  '{"message": "x"',
  'nul',
  '\u0000',
  '{"message":"x"}garbage',
  '{"message":"x"}{"message":"y"}',
  "{'message': 'single quotes'}",
  '{"message": NaN}',
  '{"message": "\\ud800"}',
  '{"message": "\\u0000"}',
  '{"__proto__": {"admin": true}, "constructor": {"prototype": {"admin": true}}}',
  '\uFEFF{"message":"bom"}',
  deeplyNested(5000, false),
  deeplyNested(3000, true),
  `{"payload": ${deeplyNested(4000, false)}, "tenant_id": "acme", "endpoint_url": "https://hooks.acme.example/in", "event_type": "x"}`,
  Buffer.from([0x7b, 0x22, 0x6d, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
  Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]),
];

const CONTENT_TYPES = [
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/merge-patch+json',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-8; boundary=";;"',
];

/**
 * Adds, replaces or drops one property of a (valid) body, at any depth: `choices` pick the key at
 * each level and whether to go deeper, so the change is reproducible and shrinks.
 */
function mutate(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .record({
      body: valid,
      choices: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
      how: fc.constantFrom('string', 'string', 'json', 'drop', 'add'),
      text: hostileString(),
      json: hostileJson,
      extraKey: hostileKey(),
    })
    .map(({ body, choices, how, text, json, extraKey }) => {
      const change = (value: unknown, level: number): unknown => {
        if (typeof value !== 'object' || value === null) return how === 'string' ? text : json;
        const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as never) : { ...value };
        const keys = Object.keys(copy);
        if (!keys.length || (how === 'add' && choices[level] % 3 === 0)) {
          Object.defineProperty(copy, extraKey || 'extra', {
            value: json,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          return copy;
        }
        const key = keys[choices[level] % keys.length];
        const inner = copy[key];
        const deeper = typeof inner === 'object' && inner !== null && level < 4 && choices[level + 1] % 2 === 0;
        if (deeper) copy[key] = change(inner, level + 1);
        else if (how === 'drop') delete copy[key];
        else copy[key] = how === 'string' ? text : json;
        return copy;
      };
      return change(body, 0);
    });
}

function body(op: Operation, resolve: (s: Schema) => Schema, maxBodyBytes: number): fc.Arbitrary<BodyPart | undefined> {
  const json = (value: fc.Arbitrary<unknown>) =>
    value.map((v): BodyPart => ({ kind: 'json', value: v, contentType: 'application/json' }));
  const raw = fc
    .constantFrom(...RAW_BODIES)
    .map((payload): BodyPart => ({ kind: 'raw', payload, contentType: 'application/json' }));
  if (!op.body) {
    return fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: json(hostileJson) },
      { weight: 1, arbitrary: raw },
    );
  }
  const valid = fromSchema(op.body, resolve, op.path);
  return fc.oneof(
    { weight: 6, arbitrary: json(valid) },
    { weight: 5, arbitrary: json(mutate(valid)) },
    { weight: 2, arbitrary: json(hostileJson) },
    { weight: 1, arbitrary: raw },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.constantFrom(...CONTENT_TYPES))
        .map(([value, contentType]): BodyPart => ({ kind: 'json', value, contentType })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'))
        .map(([value, contentEncoding]): BodyPart => ({
          kind: 'json',
          value,
          contentType: 'application/json',
          contentEncoding,
        })),
    },
    {
      weight: 1,
      // Over MAX_BODY_BYTES: a 413 from the body parser (oversize fields within it come from mutate).
      arbitrary: fc.constantFrom(maxBodyBytes - 10, maxBodyBytes + 1, maxBodyBytes * 2).map((n): BodyPart => ({
        kind: 'json',
        value: { payload: 'y'.repeat(n) },
        contentType: 'application/json',
      })),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

// ---------------------------------------------------------------------------------------------

/** Every part of a request to one operation: headers, path parameters, query and body. */
export function requestFor(
  op: Operation,
  resolve: (s: Schema) => Schema,
  options: { proxySecret: string; maxBodyBytes: number },
): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  return fc.record({
    path: fc.record(Object.fromEntries(pathParams.map((p) => [p.name, pathParam(op.path, p.name)]))),
    query: query(op, resolve),
    headers: headers(
      options.proxySecret,
      op.parameters.filter((p) => p.in === 'header'),
    ),
    body: op.method === 'get' ? fc.constant(undefined) : body(op, resolve, options.maxBodyBytes),
  });
}

/** A body that follows the schema with every string set to `text` (enums and numbers kept valid). */
function filledBody(schema: Schema, resolve: (s: Schema) => Schema, text: string, depth = 0): unknown {
  const s = resolve(schema);
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(s.properties ?? {})
          .filter(() => depth < 4)
          .map(([key, prop]) => [key, filledBody(prop, resolve, text, depth + 1)]),
      );
    case 'array':
      return [filledBody(s.items ?? {}, resolve, text, depth + 1)];
    case 'number':
    case 'integer':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    default:
      return text;
  }
}

/**
 * Requests that once found a 500, replayed first on every run whatever the seed: a NUL in each path
 * parameter, query value and body string (PostgreSQL refuses it), empty comma lists (`IN ()`),
 * forged cursors with a NUL id or a date PostgreSQL cannot hold, and a deeply nested body.
 */
export function regressionRequests(op: Operation, resolve: (s: Schema) => Schema, proxySecret: string): FuzzRequest[] {
  const headers = { 'X-User-Roles': 'admin,operator', 'X-Auth-Proxy-Secret': proxySecret };
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const path = (text: string) => Object.fromEntries(pathParams.map((p) => [p.name, { text }]));
  const known = Object.fromEntries(pathParams.map((p) => [p.name, { text: new Known(poolFor(op.path, p.name), 0) }]));
  const cursor = (t: string, id: string): UrlPart => ({
    text: Buffer.from(JSON.stringify({ t, id }), 'utf8').toString('base64url'),
  });
  const out: FuzzRequest[] = [];
  if (pathParams.length) out.push({ path: path('a\u0000b'), query: [], headers });
  for (const param of queryParams) {
    for (const value of ['\u0000', '']) out.push({ path: known, query: [[param.name, { text: value }]], headers });
  }
  if (queryParams.some((p) => p.name === 'cursor')) {
    for (const c of [cursor('2026-11-26T00:00:00.000Z', 'a\u0000b'), cursor('-271821-04-20T00:00:00.000Z', 'x')]) {
      out.push({ path: known, query: [['cursor', c]], headers });
    }
  }
  if (op.body) {
    const nul = filledBody(op.body, resolve, 'x\u0000y');
    out.push({ path: known, query: [], headers, body: { kind: 'json', value: nul, contentType: 'application/json' } });
  }
  if (op.method !== 'get') {
    for (const payload of [deeplyNested(5000, false), deeplyNested(3000, true)]) {
      out.push({ path: known, query: [], headers, body: { kind: 'raw', payload, contentType: 'application/json' } });
    }
  }
  return out;
}
