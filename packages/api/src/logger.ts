/**
 * Pino options for every Fastify instance. Secrets never reach a log line (docs/design.md rule 4):
 * - the request and response serializers copy only allowed fields (id, method, the path without
 *   its query string, ip; the status code), so no header, cookie, query or body is ever written;
 * - errors go through pino's error serializer, then through `censorSecrets`;
 * - every other value a line carries passes `censorSecrets`, which replaces the value of any
 *   key named below (any case, up to four levels deep, arrays included) with "[redacted]".
 * On a request's two lines this costs next to nothing, where pino's path-based `redact` over the
 * same names cost about 24 µs per request (docs/benchmarks.md "Request logging cost"), and it
 * covers the names at every depth a path list would have to spell out. Pinned by logger.test.ts
 * and http-auth.security.test.ts.
 */
import type { FastifyLoggerOptions } from 'fastify';
import { stdSerializers, type LoggerOptions as PinoOptions } from 'pino';
import { build as pinoPretty, isColorSupported } from 'pino-pretty';

export const REDACTED_KEYS = [
  'password',
  'code',
  'token',
  'secret',
  'authorization',
  'cookie',
] as const;

const CENSORED = new Set<string>([
  ...REDACTED_KEYS,
  'set-cookie',
  'currentpassword',
  'newpassword',
  'challengetoken',
  'key',
]);
const CENSOR = '[redacted]';
const MAX_DEPTH = 4;

/** Keys whose values have their own allowlist serializer (never walked here). */
const SERIALIZED = new Set(['req', 'res', 'err']);

/**
 * `value` with the value of every sensitive key replaced; the same object when nothing matched
 * (no copy on the common path). Below `MAX_DEPTH` a nested object is replaced whole: a log line
 * never needs it, and walking it could cost more than the request.
 */
export function censorSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return CENSOR;
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    let copy: unknown[] | null = null;
    for (let i = 0; i < items.length; i += 1) {
      const next = censorSecrets(items[i], depth + 1);
      if (next !== items[i]) (copy ??= [...items])[i] = next;
    }
    return copy ?? items;
  }
  return censorRecord(value as Record<string, unknown>, depth, NONE);
}

const NONE: ReadonlySet<string> = new Set();

function censorRecord(
  record: Record<string, unknown>,
  depth: number,
  skip: ReadonlySet<string>,
): Record<string, unknown> {
  let copy: Record<string, unknown> | null = null;
  for (const key of Object.keys(record)) {
    if (skip.has(key)) continue;
    const current = record[key];
    const next = CENSORED.has(key.toLowerCase()) ? CENSOR : censorSecrets(current, depth + 1);
    if (next !== current) (copy ??= { ...record })[key] = next;
  }
  return copy ?? record;
}

/** A log line's own object: its `req`, `res` and `err` go through their allowlist serializers instead. */
const censorLogObject = (object: Record<string, unknown>): Record<string, unknown> =>
  censorRecord(object, 0, SERIALIZED);

/** `pretty`: one readable line per entry (pino-pretty); `json`: one JSON object per line. */
export type LogFormat = 'pretty' | 'json';

/**
 * Readable lines for a person at a terminal in development; JSON wherever a machine reads the
 * output (a pipe, a file, a log collector) and always in production.
 */
export function logFormatFor(context: { nodeEnv: string; stdoutIsTTY: boolean }): LogFormat {
  return context.nodeEnv !== 'production' && context.stdoutIsTTY ? 'pretty' : 'json';
}

export interface LoggerOptions {
  level: string;
  /** Default `json`. */
  format?: LogFormat;
  /** Extra destination for tests (pino destination stream). */
  stream?: NodeJS.WritableStream;
}

/**
 * The pretty format is a destination stream, not a transport: entries are censored and
 * serialized above before they reach it, exactly as in JSON, and it writes synchronously, so a
 * line printed just before exit is not lost.
 */
function destinationOf(options: LoggerOptions): NodeJS.WritableStream | undefined {
  if (options.format !== 'pretty') return options.stream;
  return pinoPretty({
    destination: options.stream ?? 1,
    sync: true,
    colorize: options.stream ? false : isColorSupported,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

export function loggerOptions(options: LoggerOptions): FastifyLoggerOptions & PinoOptions {
  const stream = destinationOf(options);
  return {
    level: options.level,
    formatters: { log: censorLogObject },
    serializers: {
      req: (req: { method: string; url: string; id: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split('?')[0],
        ip: req.ip,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: (error: Error) =>
        censorSecrets(stdSerializers.err(error)) as ReturnType<typeof stdSerializers.err>,
    },
    ...(stream ? { stream } : {}),
  };
}
