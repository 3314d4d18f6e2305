/**
 * Pino options for every Fastify instance. Secrets never reach a log line (DESIGN rule 4): the
 * redact list covers the names below wherever they appear, and the request serializer logs the
 * path without its query string, never a body.
 */
import type { FastifyLoggerOptions } from 'fastify';
import type { LoggerOptions as PinoOptions } from 'pino';

export const REDACTED_KEYS = ['password', 'code', 'token', 'secret', 'authorization', 'cookie'] as const;

const redactPaths = [
  ...REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.currentPassword',
  '*.newPassword',
  '*.challengeToken',
  '*.key',
];

export interface LoggerOptions {
  level: string;
  /** Extra destination for tests (pino destination stream). */
  stream?: NodeJS.WritableStream;
}

export function loggerOptions(options: LoggerOptions): FastifyLoggerOptions & PinoOptions {
  return {
    level: options.level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split('?')[0],
        ip: req.ip,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    ...(options.stream ? { stream: options.stream } : {}),
  };
}
