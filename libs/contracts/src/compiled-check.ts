import Ajv2020 from 'ajv/dist/2020';
import { z } from 'zod';

/**
 * Checks a decoded JSON value against a schema's compiled form: true when zod would accept it,
 * and then the value is as zod would return it (unknown keys removed, as zod's objects strip
 * them). False means only "ask zod": zod says why, or accepts what this was too strict for.
 */
export type CompiledCheck = (value: unknown) => boolean;

/**
 * Every consumer checks every event it reads. zod, which defines the contracts, took about 3 µs
 * and 5 KB of garbage per MessageAccepted (a result and an issue list per field); Ajv runs the
 * same schema as generated code, in about a third of the time with next to no garbage. The
 * schema is zod's own JSON Schema of the contract, so there is one definition; Ajv is the
 * maintained, standard JSON Schema validator for Node.
 */
const ajv = new Ajv2020({
  strict: true,
  // zod's JSON Schema carries each format's pattern, which is the whole of zod's check for the
  // formats compiledCheck admits; Ajv's own formats would check something slightly different.
  validateFormats: false,
  // As zod does: JavaScript's regular expressions without the u flag…
  unicodeRegExp: false,
  // …and removing keys an object does not declare, where zod's JSON Schema forbids them.
  removeAdditional: true,
});

const compiled = new WeakMap<z.ZodType, CompiledCheck | null>();

/**
 * The schema's compiled check, or null where zod's JSON Schema would not say all zod checks
 * (refinements, transforms, defaults and most formats are left out of it or differ), or where Ajv
 * would not take it whole (strict: a keyword it does not know): such a schema is checked by zod
 * alone. Compiled on first use.
 */
export function compiledCheck(schema: z.ZodType): CompiledCheck | null {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = isFaithful(schema) ? compileJsonSchemaOf(schema) : null;
    compiled.set(schema, check);
  }
  return check;
}

function compileJsonSchemaOf(schema: z.ZodType): CompiledCheck | null {
  try {
    return ajv.compile(z.toJSONSchema(schema, { io: 'output' }));
  } catch {
    return null;
  }
}

/** String formats whose check in zod is exactly their pattern. */
const PATTERN_FORMATS = new Set(['regex', 'uuid', 'datetime']);

/** Whether zod's JSON Schema of `schema` says everything zod checks: only what is listed here. */
function isFaithful(schema: z.ZodType, inUnion = false): boolean {
  const def = schema._zod.def as unknown as ZodDef;
  const checks = (def.checks ?? []).map((check) => check._zod.def);
  const only = (...kinds: string[]) => checks.every((check) => kinds.includes(check.check) && faithfulFormat(check));
  switch (def.type) {
    case 'unknown':
    case 'boolean':
    case 'enum':
      return checks.length === 0;
    case 'string':
      return faithfulFormat(def) && only('min_length', 'max_length', 'string_format');
    case 'number':
      return only('greater_than', 'less_than', 'number_format') && checks.every((c) => c.check !== 'number_format' || c.format === 'safeint');
    case 'optional':
      return isFaithful(def.innerType!, inUnion);
    case 'array':
      return only('min_length', 'max_length') && isFaithful(def.element!, inUnion);
    case 'record':
      return checks.length === 0 && isFaithful(def.keyType!, inUnion) && isFaithful(def.valueType!, inUnion);
    // Ajv may remove keys while trying a branch that then fails: no objects in unions.
    case 'union':
      return checks.length === 0 && def.options!.every((option) => isFaithful(option, true));
    // Strip mode only (no catchall): unknown keys removed, as removeAdditional does.
    case 'object':
      return !inUnion && checks.length === 0 && def.catchall === undefined && Object.values(def.shape!).every((field) => isFaithful(field));
    default:
      return false;
  }
}

function faithfulFormat(def: { check?: string; format?: string; pattern?: RegExp }): boolean {
  if (def.check !== 'string_format') return true;
  return PATTERN_FORMATS.has(def.format ?? '') && def.pattern instanceof RegExp && def.pattern.flags === '';
}

/** The parts of zod's schema definitions isFaithful reads. */
interface ZodDef {
  type: string;
  checks?: { _zod: { def: { check: string; format?: string; pattern?: RegExp } } }[];
  check?: string;
  format?: string;
  pattern?: RegExp;
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
}
