/**
 * GDPR Art. 12(3) deadlines, counted as EU law counts months (Regulation 1182/71 Art. 3(2)(c)):
 * the same day of the month, one month on, at the same UTC clock time; when that day does not
 * exist the period ends on the month's last day (Jan 31 -> Feb 28, or Feb 29 in a leap year),
 * never "+30 days". Extensions add at most two further months in total, counted from the
 * original due date, so two one-month extensions land where one two-month extension would.
 */

/** Most months an extension may add in total (Art. 12(3): "two further months"). */
export const MAX_EXTENSION_MONTHS = 2;

/** `date` moved `months` calendar months on (UTC), the day clamped to the target month's end. */
export function addCalendarMonths(date: Date, months: number): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime()))
    throw new TypeError('date must be a valid Date');
  if (!Number.isInteger(months) || months < 0)
    throw new TypeError('months must be a non-negative integer');
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  return new Date(
    Date.UTC(
      year,
      month,
      day,
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds(),
    ),
  );
}

/** When a request received at `receivedAt` is due: one calendar month later. */
export function privacyDueDate(receivedAt: Date): Date {
  return addCalendarMonths(receivedAt, 1);
}

/**
 * The due date after extending by `months` more, given what was already extended. Returns null
 * when the total would exceed MAX_EXTENSION_MONTHS (the caller refuses the extension).
 */
export function extendedDueDate(
  originalDueAt: Date,
  alreadyExtendedMonths: number,
  months: number,
): { dueAt: Date; extendedMonths: number } | null {
  if (!Number.isInteger(months) || months < 1)
    throw new TypeError('months must be a positive integer');
  const total = alreadyExtendedMonths + months;
  if (total > MAX_EXTENSION_MONTHS) return null;
  return { dueAt: addCalendarMonths(originalDueAt, total), extendedMonths: total };
}
