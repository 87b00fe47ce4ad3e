import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import * as contracts from '../src';
import { ContractViolation, decodeEvent, type EventContract } from '../src';
import { compiledCheck } from '../src/compiled-check';
import { envelopeSchema } from '../src/envelope';

const fixtures = join(__dirname, '../../test/fixtures');
const published = (Object.values(contracts) as unknown[]).filter((value): value is EventContract<string, unknown> =>
  typeof value === 'object' && value !== null && 'schema' in value && 'topic' in value);

/** What decodeEvent returned before the compiled checks: zod alone, or "refused". */
function decodedByZodAlone(raw: unknown): unknown {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return 'refused';
  const contract = published.find((c) => c.type === envelope.data.type && c.version === envelope.data.version);
  const payload = contract?.schema.safeParse(envelope.data.payload);
  return payload?.success ? { ...envelope.data, payload: payload.data } : 'refused';
}

function decoded(raw: unknown): unknown {
  try {
    return decodeEvent(JSON.stringify(raw));
  } catch (error) {
    if (error instanceof ContractViolation) return 'refused';
    throw error;
  }
}

const emoji = '😀'; // two UTF-16 code units, one code point
const lengths = [1, 2, 3, 4, 5, 64, 65, 127, 128, 129, 255, 256, 257, 1023, 1024, 1025, 3071, 3072];
/** Values put in place of each field: wrong types, formats near misses, and strings around every length limit, in both units. */
const replacements: unknown[] = [
  null, true, 0, 1, -1, 1.5, 2 ** 53, 2 ** 53 - 1, '1', [], ['x'], {}, { extra: 1 },
  '', ' ', 'x', 'a@b', 'a@b/c', ' a@b', 'a@b ', 'a@b@c', 'a/b@c', 'pubsub.localhost', 'A@B/😀',
  '2026-11-24T12:00:00Z', '2026-11-24T12:00:00+01:00', '2026-11-24 12:00:00Z', '2026-02-30T00:00:00Z', '2026-11-24T12:00:00.123456789Z', '2026-11-24',
  '00000000-0000-4000-8000-000000000001', '00000000-0000-9000-8000-000000000001', 'ABCDEF00-0000-4000-8000-000000000001', '00000000-0000-0000-0000-000000000000',
  'chat', 'headline', 'subscribed', 'deadbeefdeadbeef', 'DEADBEEFDEADBEE',
  ...lengths.flatMap((n) => ['a'.repeat(n), emoji.repeat(Math.ceil(n / 2)), `${'a'.repeat(Math.max(1, n - 2))}@b`, `${emoji.repeat(Math.ceil(n / 2))}@b/r`]),
  Array.from({ length: 1001 }, (_, i) => `u${i}@b`),
];

/** Every path to a value inside `value` (object keys and array indexes), the root excluded. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    return [path, ...pathsOf(child, path)];
  });
}

type Container = Record<string | number, unknown>;

/** A copy of `value` with `edit` applied to the object or array at `path`. */
function edited(value: unknown, path: (string | number)[], edit: (target: Container) => void): unknown {
  const copy = structuredClone(value);
  edit(path.reduce<Container>((target, key) => target[key] as Container, copy as Container));
  return copy;
}

test('decodeEvent accepts and refuses exactly what zod alone does, and returns what zod returns, for every field of every published event', () => {
  let compared = 0;
  let accepted = 0;
  for (const file of readdirSync(fixtures)) {
    const fixture: unknown = JSON.parse(readFileSync(join(fixtures, file), 'utf8'));
    const variants: unknown[] = [fixture, edited(fixture, [], (root) => (root.unknownField = 'x'))];
    for (const path of pathsOf(fixture)) {
      const [parent, key] = [path.slice(0, -1), path.at(-1)!];
      variants.push(edited(fixture, parent, (target) => (Array.isArray(target) ? target.splice(Number(key), 1) : delete target[key])));
      for (const replacement of replacements) variants.push(edited(fixture, parent, (target) => (target[key] = structuredClone(replacement))));
      variants.push(edited(fixture, path, (target) => {
        if (typeof target === 'object' && target !== null && !Array.isArray(target)) target.unknownField = 'x';
      }));
    }
    for (const variant of variants) {
      const expected = decodedByZodAlone(structuredClone(variant));
      assert.deepEqual(decoded(variant), expected, `${file}: ${JSON.stringify(variant).slice(0, 300)}`);
      compared++;
      if (expected !== 'refused') accepted++;
    }
  }
  // Both ways were exercised: the fixtures' own values and unknown fields are accepted, the rest mostly refused.
  assert.ok(compared > 30_000 && accepted > 10_000 && compared - accepted > 20_000, `${compared} compared, ${accepted} accepted`);
});

test('unknown fields are removed on decode, as zod removes them, including one named __proto__', () => {
  const fixture = JSON.parse(readFileSync(join(fixtures, 'MessageAccepted.v1.json'), 'utf8'));
  const value = JSON.stringify(fixture).replace('"payload":{', '"future":1,"payload":{"__proto__":{"polluted":true},"extra":[1],');
  const event = decodeEvent(value);
  assert.deepEqual(Object.keys(event.payload as object).sort(), Object.keys(fixture.payload).sort());
  assert.equal('future' in event, false);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('every published event and the envelope are checked by compiled code, not by zod', () => {
  assert.ok(published.length >= 23);
  for (const schema of [envelopeSchema, ...published.map((c) => c.schema)]) assert.ok(compiledCheck(schema), 'compiled');
});

test('string lengths are counted as zod counts them (in code points, not UTF-16 units)', () => {
  const strings = ['', 'a', emoji, `a${emoji}`, emoji.repeat(2), `${emoji.repeat(2)}a`, 'aaa', 'aaaa'];
  for (const schema of [z.string().min(2), z.string().max(2), z.string().min(3), z.string().max(3)]) {
    const compiled = compiledCheck(schema)!;
    for (const s of strings) assert.equal(compiled(s), schema.safeParse(s).success, `${JSON.stringify(z.toJSONSchema(schema))} ${s}`);
  }
});

test('a schema whose JSON Schema would not say everything zod checks, or that Ajv would not take whole, is left to zod', () => {
  for (const schema of [
    z.string().refine((s) => s !== 'x'),
    z.object({ a: z.string() }).superRefine(() => undefined),
    z.string().transform((s) => s.length),
    z.object({ a: z.string().default('x') }),
    z.string().trim(),
    z.string().regex(/^a$/i),
    z.email(),
    z.url(),
    z.looseObject({ a: z.string() }),
    z.union([z.object({ a: z.string() }), z.string()]),
    z.number().multipleOf(0.1),
    z.string().nullable(),
    // A keyword Ajv does not know (here from metadata): it would not check it, so it refuses to compile.
    z.object({ a: z.string().meta({ 'x-unknown': true }) }),
  ]) assert.equal(compiledCheck(schema), null, JSON.stringify(z.toJSONSchema(schema, { unrepresentable: 'any' })));
});
