import { customType } from 'drizzle-orm/pg-core';

/** bytea as a Node Buffer (hashes of tokens and keys). */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});
