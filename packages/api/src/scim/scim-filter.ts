/**
 * The `filter` query parameter (RFC 7644 §3.4.2.2), parsed by scim2-parse-filter. Only what
 * identity providers use to find a resource before creating it is served: one `eq` comparison on
 * an attribute the resource indexes (`userName`, `externalId`; `displayName`, `externalId` for
 * groups). Anything else, and anything that does not parse, is a 400 `invalidFilter`: a silent
 * fallback to "everything" would make a client believe a user exists.
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { ScimError } from './scim-errors.js';
import { textOf } from './scim-text.js';

const MAX_FILTER_CHARS = 1000;

/** `attributes` maps lower-case names to the canonical ones. */
export function parseScimFilter<A extends string>(
  raw: unknown,
  attributes: readonly A[],
  schemaUrn: string,
): { attribute: A; value: string } | null {
  if (raw === undefined || raw === '') return null;
  if (typeof raw !== 'string' || raw.length > MAX_FILTER_CHARS)
    throw new ScimError(400, 'The filter is not valid.', 'invalidFilter');
  let filter: Filter;
  try {
    filter = parse(raw);
  } catch {
    throw new ScimError(400, 'The filter is not valid.', 'invalidFilter');
  }
  if (filter.op !== 'eq' || !('compValue' in filter) || typeof filter.compValue !== 'string')
    throw unsupported(attributes);
  // RFC 7644 §3.10: an attribute may be named with its schema URN in front.
  const path = filter.attrPath.toLowerCase().replace(`${schemaUrn.toLowerCase()}:`, '');
  const attribute = attributes.find((a) => a.toLowerCase() === path);
  if (attribute === undefined) throw unsupported(attributes);
  return { attribute, value: textOf(filter.compValue, attribute, 256) };
}

function unsupported(attributes: readonly string[]): ScimError {
  return new ScimError(
    400,
    `Only "${attributes.join('" or "')} eq" filters are supported.`,
    'invalidFilter',
  );
}

/** RFC 7644 §3.4.2.4: `startIndex` below 1 reads as 1, `count` below 0 as 0; both integers. */
export function pageOf(
  query: Record<string, unknown>,
  maxCount: number,
): { startIndex: number; count: number } {
  const integer = (value: unknown, fallback: number): number => {
    if (value === undefined || value === '') return fallback;
    if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value))
      throw new ScimError(400, 'startIndex and count must be integers.', 'invalidValue');
    return Number(value);
  };
  const startIndex = Math.max(1, integer(query['startIndex'], 1));
  const count = Math.min(maxCount, Math.max(0, integer(query['count'], maxCount)));
  return { startIndex, count };
}
