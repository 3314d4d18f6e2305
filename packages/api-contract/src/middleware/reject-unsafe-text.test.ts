import { expect, test } from 'vitest';
import { findUnsafeText, MAX_DEPTH, MAX_NODES, rejectUnsafeText } from './reject-unsafe-text.js';

test('NUL and unpaired surrogates are found in strings and property names, with their path', () => {
  expect(findUnsafeText({ email: 'a\u0000@example.com' })).toEqual({
    kind: 'unsafe_text',
    path: 'email',
  });
  expect(findUnsafeText({ users: [{ email: 'ok' }, { email: 'x\uD83D' }] })).toEqual({
    kind: 'unsafe_text',
    path: 'users.1.email',
  });
  expect(findUnsafeText({ a: { ['k\uDC00']: 1 } })).toEqual({ kind: 'unsafe_key', path: 'a' });
  expect(findUnsafeText('\u0000')).toEqual({ kind: 'unsafe_text', path: '_' });
  expect(findUnsafeText({ ['x'.repeat(500)]: '\u0000' })?.path).toBe('x'.repeat(64));
});

test('well-formed text passes: surrogate pairs, other control characters, numbers, null', () => {
  expect(
    findUnsafeText({
      a: '🚀\uD83D\uDE80',
      b: '\t\u0001\u007f\uFFFD',
      c: [1, true, null],
      d: { e: '' },
    }),
  ).toBeNull();
  expect(findUnsafeText(undefined)).toBeNull();
});

test('the walk is bounded in depth and in size, and refuses what exceeds the bound', () => {
  let deep: unknown = 'leaf';
  for (let i = 0; i < MAX_DEPTH + 1; i += 1) deep = [deep];
  expect(findUnsafeText(deep)).toMatchObject({ kind: 'too_large' });
  let ok: unknown = 'leaf';
  for (let i = 0; i < MAX_DEPTH; i += 1) ok = [ok];
  expect(findUnsafeText(ok)).toBeNull();
  expect(findUnsafeText(new Array(MAX_NODES).fill(0))).toMatchObject({ kind: 'too_large' });
  expect(findUnsafeText(new Array(MAX_NODES - 1).fill(0))).toBeNull();
  // Deep nesting (a 1 MiB body can hold far more) costs MAX_DEPTH steps, not a stack overflow.
  expect(findUnsafeText(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)))).toMatchObject({
    kind: 'too_large',
  });
});

test('the refusal is a typed invalid_input naming the field', () => {
  expect(() => rejectUnsafeText({ reason: 'a\u0000' })).toThrow(
    expect.objectContaining({ code: 'invalid_input', field: 'reason' }),
  );
  expect(() => rejectUnsafeText({ reason: 'fine' })).not.toThrow();
});
