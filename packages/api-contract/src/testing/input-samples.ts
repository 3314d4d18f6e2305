/**
 * Sample inputs built from a procedure's zod schema, for tests that walk the whole router: a
 * valid value for every required field, and the list of string leaves (with their paths) so a
 * test can put a chosen value into one leaf at a time. Unknown schema kinds throw, so a new kind
 * of input cannot slip past a walk unnoticed.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';

export type InputPath = readonly (string | number)[];

export interface StringLeaf {
  path: InputPath;
  /** zod string format (`uuid`, `email`, ...) when the leaf has one. */
  format: string | undefined;
  /** The leaf's own schema, to test candidate values against it. */
  schema: z.ZodType;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string | number>;
  values?: unknown[];
  shape?: Record<string, z.ZodType>;
  items?: z.ZodType[];
  getter?: () => z.ZodType;
  checks?: {
    _zod: {
      def: {
        check: string;
        format?: string;
        minimum?: number;
        value?: number;
        inclusive?: boolean;
      };
    };
  }[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'readonly',
  'catch',
  'nonoptional',
]);

function unwrap(schema: z.ZodType): z.ZodType {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrap(def.in);
  if (def.type === 'lazy' && def.getter) return unwrap(def.getter());
  return schema;
}

function isOptional(schema: z.ZodType): boolean {
  return ['optional', 'default', 'prefault'].includes(defOf(schema).type);
}

function check(def: Def, name: string): number | undefined {
  const found = def.checks?.find((c) => c._zod.def.check === name)?._zod.def;
  return found?.minimum ?? found?.value;
}

function sampleString(schema: z.ZodType): string {
  const def = defOf(schema);
  const format = (schema as { format?: string | null }).format ?? undefined;
  switch (format) {
    case 'uuid':
    case 'guid':
      return randomUUID();
    case 'email':
      return `sample-${randomUUID().slice(0, 8)}@example.com`;
    case 'datetime':
      return new Date('2026-03-01T12:00:00Z').toISOString();
    case 'url':
      return 'https://example.com/sample';
    default:
      break;
  }
  const min = check(def, 'min_length') ?? 1;
  return 'sample'.padEnd(Math.max(min, 6), 'x');
}

/**
 * A value for the schema: every required field filled and optional ones left out, or, when that
 * does not parse (a refinement ties fields together), every optional field filled too.
 */
export function sampleOf(schema: z.ZodType): unknown {
  const minimal = sampleWith(schema, false);
  return schema.safeParse(minimal).success ? minimal : sampleWith(schema, true);
}

function sampleWith(schema: z.ZodType, fillOptional: boolean): unknown {
  if (isOptional(schema) && !fillOptional) return undefined;
  const inner = unwrap(schema);
  const def = defOf(inner);
  switch (def.type) {
    case 'string':
      return sampleString(inner);
    case 'number':
    case 'int': {
      const min = check(def, 'greater_than') ?? 1;
      return Math.max(1, Math.ceil(min));
    }
    case 'boolean':
      return false;
    case 'enum':
      return Object.values(def.entries ?? {})[0];
    case 'literal':
      return def.values?.[0];
    case 'array': {
      const min = check(def, 'min_length') ?? 0;
      return Array.from({ length: min }, () => sampleWith(def.element as z.ZodType, fillOptional));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(def.shape ?? {})) {
        const value = sampleWith(field, fillOptional);
        if (value !== undefined) out[key] = value;
      }
      return out;
    }
    case 'union':
      return sampleWith((def.options ?? [])[0] as z.ZodType, fillOptional);
    case 'tuple':
      return (def.items ?? []).map((item) => sampleWith(item, fillOptional));
    case 'record':
      return {};
    case 'undefined':
    case 'void':
      return undefined;
    case 'null':
      return null;
    case 'unknown':
    case 'any':
      return 'sample';
    default:
      throw new TypeError(`input-samples: unknown zod kind '${def.type}'`);
  }
}

/** Every string leaf (enums and string literals included) reachable in the schema, optional or not. */
export function stringLeaves(schema: z.ZodType, path: InputPath = []): StringLeaf[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  switch (def.type) {
    case 'string':
      return [{ path, format: (inner as { format?: string | null }).format ?? undefined, schema }];
    case 'enum':
    case 'literal': {
      const values = def.type === 'enum' ? Object.values(def.entries ?? {}) : (def.values ?? []);
      return values.some((v) => typeof v === 'string') ? [{ path, format: undefined, schema }] : [];
    }
    case 'array':
      return stringLeaves(def.element as z.ZodType, [...path, 0]);
    case 'object':
      return Object.entries(def.shape ?? {}).flatMap(([key, field]) =>
        stringLeaves(field, [...path, key]),
      );
    case 'union': {
      const seen = new Set<string>();
      return (def.options ?? [])
        .flatMap((option) => stringLeaves(option, path))
        .filter((leaf) => {
          const key = leaf.path.join('.');
          return seen.has(key) ? false : (seen.add(key), true);
        });
    }
    case 'tuple':
      return (def.items ?? []).flatMap((item, i) => stringLeaves(item, [...path, i]));
    case 'unknown':
    case 'any':
      return [{ path, format: undefined, schema }];
    case 'number':
    case 'int':
    case 'boolean':
    case 'null':
    case 'undefined':
    case 'void':
    case 'record':
      return [];
    default:
      throw new TypeError(`input-samples: unknown zod kind '${def.type}' at ${path.join('.')}`);
  }
}

/**
 * A copy of `base` with `value` written at `path`, creating the objects and arrays on the way
 * (an optional parent absent from the sample is filled from the schema first).
 */
export function withValueAt(
  schema: z.ZodType,
  base: unknown,
  path: InputPath,
  value: unknown,
): unknown {
  if (path.length === 0) return value;
  const inner = unwrap(schema);
  const def = defOf(inner);
  const [head, ...rest] = path;
  if (def.type === 'array' && typeof head === 'number') {
    const items =
      Array.isArray(base) && base.length > 0
        ? [...(base as unknown[])]
        : [sampleOf(unwrap(def.element as z.ZodType))];
    items[0] = withValueAt(def.element as z.ZodType, items[0], rest, value);
    return items;
  }
  if (def.type === 'union') {
    const option =
      (def.options ?? []).find((o) =>
        stringLeaves(o).some((leaf) => leaf.path.join('.') === path.join('.')),
      ) ?? def.options?.[0];
    const start =
      base !== undefined && option === def.options?.[0]
        ? base
        : sampleOf(unwrap(option as z.ZodType));
    return withValueAt(option as z.ZodType, start, path, value);
  }
  if (def.type === 'object' && typeof head === 'string') {
    const field = def.shape?.[head];
    if (!field) throw new TypeError(`input-samples: no field ${head}`);
    const object =
      typeof base === 'object' && base !== null
        ? { ...(base as Record<string, unknown>) }
        : (sampleOf(inner) as Record<string, unknown>);
    const current = object[head] ?? (rest.length > 0 ? sampleOf(unwrap(field)) : undefined);
    object[head] = withValueAt(field, current, rest, value);
    return object;
  }
  throw new TypeError(`input-samples: cannot write at ${path.join('.')} in a '${def.type}'`);
}
