/**
 * Text that no input may carry: U+0000 (PostgreSQL text cannot store it, so it surfaced as a 500)
 * and unpaired UTF-16 surrogates (not Unicode text: UTF-8 encoding silently turns them into
 * U+FFFD, so what is stored or compared is not what was sent). Every procedure refuses them in
 * strings and property names with `invalid_input` (BAD_REQUEST, `data.field` = the path), before
 * zod parses the input and before any database work.
 *
 * The walk is bounded, so it costs no more than parsing the request did: past MAX_DEPTH nesting or
 * MAX_NODES values the input is refused as too large (no procedure takes anything close).
 * Pinned by unsafe-text.security.test.ts and reject-unsafe-text.test.ts.
 */
import { AuthError } from '@tessera/auth';

export const MAX_DEPTH = 32;
export const MAX_NODES = 20_000;

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_PATH_SEGMENT = 64;

export type UnsafeTextFinding = { kind: 'unsafe_text' | 'unsafe_key' | 'too_large'; path: string };

/** The first string or property name in `input` that holds unsafe text, or null. */
export function findUnsafeText(input: unknown): UnsafeTextFinding | null {
  const path: string[] = [];
  let nodes = 0;
  const visit = (value: unknown, depth: number): UnsafeTextFinding | null => {
    nodes += 1;
    if (nodes > MAX_NODES || depth > MAX_DEPTH) return { kind: 'too_large', path: render(path) };
    if (typeof value === 'string')
      return UNSAFE.test(value) ? { kind: 'unsafe_text', path: render(path) } : null;
    if (typeof value !== 'object' || value === null) return null;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i += 1) {
        path.push(String(i));
        const found = visit(value[i], depth + 1);
        path.pop();
        if (found) return found;
      }
      return null;
    }
    for (const key of Object.keys(value)) {
      if (UNSAFE.test(key)) return { kind: 'unsafe_key', path: render(path) };
      path.push(key);
      const found = visit((value as Record<string, unknown>)[key], depth + 1);
      path.pop();
      if (found) return found;
    }
    return null;
  };
  return visit(input, 0);
}

/** Dotted path as zod's fieldErrors name it (`_` for the input itself); long keys are cut. */
function render(path: readonly string[]): string {
  return path.length === 0
    ? '_'
    : path.map((segment) => segment.slice(0, MAX_PATH_SEGMENT)).join('.');
}

const DETAIL: Record<UnsafeTextFinding['kind'], string> = {
  unsafe_text: 'Text may not contain NUL characters or unpaired surrogates.',
  unsafe_key: 'Property names may not contain NUL characters or unpaired surrogates.',
  too_large: 'The input is too large or too deeply nested.',
};

/** Throws `invalid_input` naming the offending field when the raw input holds unsafe text. */
export function rejectUnsafeText(input: unknown): void {
  const found = findUnsafeText(input);
  if (found)
    throw new AuthError('invalid_input', { field: found.path, detail: DETAIL[found.kind] });
}
