import { z } from 'zod';

/**
 * An ISO-8601 instant as the services write it (`Date#toISOString`). Checked as a string only: the
 * format is documentation for REST clients (`format: date-time` in the OpenAPI document), and an
 * output check must never turn a served answer into a 500.
 */
export const isoInstant = z.string().meta({ format: 'date-time' });
export const nullableInstant = isoInstant.nullable();

/** Compile-time equality of two types: each output schema must describe exactly what its service returns. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const uuidString = z.string().meta({ format: 'uuid' });
