import { ScimError } from './scim-errors.js';

// PostgreSQL refuses U+0000 in text and a lone surrogate cannot be stored faithfully: both are
// refused as a 400 before any query, never surfacing as a 500.
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point of this pattern
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string attribute of at most `max` characters, or a 400 naming the attribute. */
export function textOf(value: unknown, attribute: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    throw new ScimError(
      400,
      `"${attribute}" must be a string of 1 to ${max} characters.`,
      'invalidValue',
    );
  if (NUL.test(value) || LONE_SURROGATE.test(value))
    throw new ScimError(
      400,
      `"${attribute}" holds characters that cannot be stored.`,
      'invalidValue',
    );
  return value;
}

/** An optional string attribute: absent, null or "" read as null. */
export function optionalTextOf(value: unknown, attribute: string, max: number): string | null {
  if (value === undefined || value === null || value === '') return null;
  return textOf(value, attribute, max);
}

/**
 * A boolean attribute. Microsoft Entra ID sends booleans as the strings "True" and "False" in
 * PATCH operations; RFC 7643 §2.3.2 booleans are JSON booleans, so both forms are read.
 */
export function booleanOf(value: unknown, attribute: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw new ScimError(400, `"${attribute}" must be a boolean.`, 'invalidValue');
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * RFC 7643 §2.1: attribute names are case-insensitive. Returns the value of `name` in `object`
 * whatever its case (Entra ID and Okta differ in places, e.g. `externalId` / `ExternalId`).
 */
export function attributeOf(object: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(object)) if (key.toLowerCase() === lower) return value;
  return undefined;
}
