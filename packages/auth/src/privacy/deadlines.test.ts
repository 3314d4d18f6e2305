import { expect, test } from 'vitest';
import { addCalendarMonths, extendedDueDate, privacyDueDate } from './deadlines.js';

const utc = (iso: string): Date => new Date(iso);

test('a request is due one calendar month later at the same UTC clock time', () => {
  expect(privacyDueDate(utc('2026-03-15T09:30:12.345Z')).toISOString()).toBe(
    '2026-04-15T09:30:12.345Z',
  );
  expect(privacyDueDate(utc('2026-12-20T23:59:00Z')).toISOString()).toBe(
    '2027-01-20T23:59:00.000Z',
  );
});

test('January 31 is due on the last day of February, in common and leap years', () => {
  expect(privacyDueDate(utc('2026-01-31T10:00:00Z')).toISOString()).toBe(
    '2026-02-28T10:00:00.000Z',
  );
  expect(privacyDueDate(utc('2028-01-31T10:00:00Z')).toISOString()).toBe(
    '2028-02-29T10:00:00.000Z',
  );
  expect(privacyDueDate(utc('2026-03-31T00:00:00Z')).toISOString()).toBe(
    '2026-04-30T00:00:00.000Z',
  );
  expect(privacyDueDate(utc('2026-01-30T00:00:00Z')).toISOString()).toBe(
    '2026-02-28T00:00:00.000Z',
  );
});

test('extensions add at most two months in total, counted from the original due date', () => {
  const original = utc('2026-02-28T10:00:00Z');
  const once = extendedDueDate(original, 0, 1);
  expect(once).toEqual({ dueAt: utc('2026-03-28T10:00:00Z'), extendedMonths: 1 });
  expect(extendedDueDate(original, 1, 1)).toEqual({
    dueAt: utc('2026-04-28T10:00:00Z'),
    extendedMonths: 2,
  });
  expect(extendedDueDate(original, 0, 2)?.dueAt).toEqual(extendedDueDate(original, 1, 1)?.dueAt);
  expect(extendedDueDate(original, 1, 2)).toBeNull();
  expect(extendedDueDate(original, 2, 1)).toBeNull();
  expect(() => extendedDueDate(original, 0, 0)).toThrow(TypeError);
});

test('month arithmetic rejects nonsense instead of guessing', () => {
  expect(() => addCalendarMonths(new Date(Number.NaN), 1)).toThrow(TypeError);
  expect(() => addCalendarMonths(utc('2026-01-01T00:00:00Z'), -1)).toThrow(TypeError);
  expect(addCalendarMonths(utc('2026-11-30T00:00:00Z'), 3).toISOString()).toBe(
    '2027-02-28T00:00:00.000Z',
  );
});
