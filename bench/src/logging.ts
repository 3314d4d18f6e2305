/**
 * `node bench/dist/logging.js`: what a request's two log lines cost ("incoming request" and
 * "request completed", as Fastify writes them at info) with the shipped pino options (allowlist
 * serializers plus `censorSecrets`), with pino's path-based `redact` over the same names (26
 * paths, as shipped before), and with the serializers alone (nothing censored: the floor).
 * Writes its section of docs/benchmarks.md.
 */
import { Writable } from 'node:stream';
import { loggerOptions, REDACTED_KEYS } from '@tessera/api';
import { pino, type LoggerOptions } from 'pino';
import { LOGGING, writeSection } from './doc-sections.js';

const REQUESTS = 200_000;
const ROUNDS = 5;

class Sink extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    done();
  }
}

const req = {
  id: 'b3c0f3d2-8c5e-4b8e-9d53-0a1f0e6c1f00',
  method: 'GET',
  url: '/trpc/auth.me?input=%7B%7D',
  ip: '203.0.113.7',
  headers: { cookie: 'tessera_session=abc', authorization: 'Bearer sk_live_x' },
};
const res = { statusCode: 200, headers: { 'set-cookie': 'tessera_session=abc' } };

function microsPerRequest(options: LoggerOptions): number {
  const sink = new Sink();
  const logger = pino(options, sink).child({ reqId: req.id });
  const started = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i += 1) {
    logger.info({ req }, 'incoming request');
    logger.info({ res, responseTime: 1.234 }, 'request completed');
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / REQUESTS;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function main(): void {
  const shipped = loggerOptions({ level: 'info' }) as LoggerOptions;
  const { formatters: _formatters, ...serializersOnly } = shipped;
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
  const variants: [string, LoggerOptions][] = [
    [
      `pino \`redact\`, ${redactPaths.length} paths`,
      { ...serializersOnly, redact: { paths: redactPaths, censor: '[redacted]' } },
    ],
    ['shipped: allowlist serializers + `censorSecrets`', shipped],
    ['serializers alone, nothing censored (floor)', serializersOnly],
  ];
  microsPerRequest(shipped); // warm-up
  const rows: string[] = [];
  const figures: number[] = [];
  for (const [label, options] of variants) {
    const samples = Array.from({ length: ROUNDS }, () => microsPerRequest(options));
    const us = median(samples);
    figures.push(us);
    rows.push(`| ${label} | ${us.toFixed(2)} | ${Math.round(1e6 / us).toLocaleString('en-US')} |`);
  }
  const body = [
    `Written by \`node bench/dist/logging.js\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (${process.version}): CPU time of a request's two info lines through pino into a discarding stream, ${REQUESTS.toLocaleString('en-US')} requests, median of ${ROUNDS} rounds.`,
    '',
    '| pino options | CPU µs per request (2 lines) | requests/s of logging alone |',
    '|---|---:|---:|',
    ...rows,
    '',
    `Censoring costs ${((figures[1] ?? 0) - (figures[2] ?? 0)).toFixed(2)} µs per request with \`censorSecrets\` against ${((figures[0] ?? 0) - (figures[2] ?? 0)).toFixed(2)} µs with pino's \`redact\`. The serializers copy only allowed fields of the request and response (id, method, path without query, ip; status code), so no header, cookie or body reaches a line through them; \`censorSecrets\` guards everything else a line may carry (an error's own fields, an object a handler logs) at any depth up to four levels, where the path list covered three.`,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  void writeSection(LOGGING, '## Request logging cost', body);
}

main();
