// Secrets never reach a log line (docs/design.md rule 4), wherever a handler puts them: top level, nested,
// in arrays, in an error's own fields, in any case; request and response lines carry only allowed
// fields (no headers, cookies, query strings).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { expect, test } from 'vitest';
import Fastify from 'fastify';
import { censorSecrets, logFormatFor, loggerOptions } from './logger.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

test('sensitive keys are censored at any place a log object can hold them', () => {
  const { lines, stream } = capture();
  const log = pino(loggerOptions({ level: 'info' }), stream);
  const error = Object.assign(new Error('failed'), {
    token: 'tok-in-error',
    details: { Secret: 'secret-in-error' },
  });
  log.info(
    {
      password: 'pw-top',
      user: { newPassword: 'pw-nested', profile: { apiKey: 'fine', key: 'key-deep' } },
      list: [{ code: '123456' }],
      Authorization: 'Bearer sk-in-case',
    },
    'line',
  );
  log.error({ err: error }, 'boom');
  const text = lines.join('');
  for (const secret of [
    'pw-top',
    'pw-nested',
    'key-deep',
    '123456',
    'sk-in-case',
    'tok-in-error',
    'secret-in-error',
  ])
    expect(text).not.toContain(secret);
  expect(text).toContain('[redacted]');
  expect(text).toContain('"apiKey":"fine"'); // only the listed names, not every name containing them
  expect(text).toContain('failed');
});

test('request and response lines hold the allowed fields only', () => {
  const { lines, stream } = capture();
  const log = pino(loggerOptions({ level: 'info' }), stream);
  log.info(
    {
      req: {
        id: 'r1',
        method: 'GET',
        url: '/privacy/downloads/tok-in-url?x=1',
        ip: '203.0.113.7',
        headers: { cookie: 'tessera_session=s3cr3t' },
      },
    },
    'incoming request',
  );
  log.info(
    { res: { statusCode: 200, headers: { 'set-cookie': 'tessera_session=s3cr3t' } } },
    'request completed',
  );
  const [incoming, completed] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(incoming?.['req']).toEqual({
    id: 'r1',
    method: 'GET',
    path: '/privacy/downloads/tok-in-url',
    ip: '203.0.113.7',
  });
  expect(completed?.['res']).toEqual({ statusCode: 200 });
  expect(lines.join('')).not.toContain('s3cr3t');
});

test('an object with nothing to censor is passed through without a copy, and depth is bounded', () => {
  const clean = { a: 1, b: { c: [1, 2, { d: 'x' }] } };
  expect(censorSecrets(clean)).toBe(clean);
  const deep = { l1: { l2: { l3: { l4: { token: 'too-deep' } } } } };
  expect(JSON.stringify(censorSecrets(deep))).not.toContain('too-deep');
});

test('logs are readable on a terminal in development and JSON in a pipe or in production', () => {
  expect(logFormatFor({ nodeEnv: 'development', stdoutIsTTY: true })).toBe('pretty');
  expect(logFormatFor({ nodeEnv: 'test', stdoutIsTTY: true })).toBe('pretty');
  expect(logFormatFor({ nodeEnv: 'development', stdoutIsTTY: false })).toBe('json');
  expect(logFormatFor({ nodeEnv: 'production', stdoutIsTTY: true })).toBe('json');
  expect(logFormatFor({ nodeEnv: 'production', stdoutIsTTY: false })).toBe('json');
});

test('the readable format censors and serializes exactly as JSON does', async () => {
  const { lines, stream } = capture();
  const app = Fastify({ logger: loggerOptions({ level: 'info', format: 'pretty', stream }) });
  app.log.info(
    { password: 'pw-top', user: { profile: { token: 'tok-nested' } }, apiKey: 'fine' },
    'pretty line',
  );
  app.log.info(
    {
      req: {
        id: 'r1',
        method: 'GET',
        url: '/privacy/downloads/d1?token=tok-in-query',
        ip: '203.0.113.7',
        headers: { cookie: 'tessera_session=s3cr3t' },
      },
    },
    'incoming request',
  );
  app.log.error({ err: Object.assign(new Error('failed'), { secret: 'secret-in-error' }) }, 'boom');
  await new Promise((resolve) => setTimeout(resolve, 50)); // the prettifier is a stream: let it flush
  await app.close();
  const text = lines.join('');
  expect(text).toMatch(/INFO.*pretty line/);
  expect(() => JSON.parse(lines[0] ?? '')).toThrow(); // not JSON
  for (const secret of ['pw-top', 'tok-nested', 's3cr3t', 'tok-in-query', 'secret-in-error'])
    expect(text).not.toContain(secret);
  expect(text).toContain('[redacted]');
  expect(text).toContain('"fine"');
  expect(text).toContain('/privacy/downloads/d1');
});
