/** The SQLSTATE of a rejected query, looking through drizzle's DrizzleQueryError wrapper. */
export async function sqlStateOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    let current: unknown = error;
    for (let depth = 0; depth < 5 && current; depth += 1) {
      const code = (current as { code?: unknown }).code;
      if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
      current = (current as { cause?: unknown }).cause;
    }
    throw error;
  }
  throw new Error('expected the query to be rejected, but it succeeded');
}

export const SQLSTATE = {
  insufficientPrivilege: '42501', // includes "new row violates row-level security policy"
  uniqueViolation: '23505',
  readOnlyTransaction: '25006',
  raiseException: 'P0001',
} as const;
