/**
 * Where SMS one-time codes leave the system. SMS is a RESTRICTED authenticator (NIST SP 800-63B
 * §5.1.3.3): the message can be read on a locked screen, redirected by SIM swap or number porting,
 * and the provider sees the code. So a provider only carries the text; everything that decides
 * whether a code may be sent or accepted lives in oob-codes-sms.ts.
 *
 * Callers must not log message bodies (they hold codes); the development provider is the one
 * exception, by design and loudly (docs/design.md "Secrets": development mail and SMS may be logged).
 */
import { createHmac, hkdfSync } from 'node:crypto';

export interface SmsMessage {
  /** E.164, e.g. +447700900123. */
  to: string;
  body: string;
}

export interface SmsProvider {
  /** For audit metadata and logs: 'twilio', 'development', 'test'. */
  readonly name: string;
  send(message: SmsMessage): Promise<void>;
}

/** The provider plus the key that turns phone numbers into rate-limit keys without storing them. */
export interface SmsGateway {
  provider: SmsProvider;
  /** HMAC key for per-number rate-limit keys (derived, never stored). */
  numberKey: Buffer;
}

/** Derives the per-number rate-limit key from secret material the server already holds. */
function deriveSmsNumberKey(secret: string | Buffer): Buffer {
  return Buffer.from(
    hkdfSync('sha256', secret, Buffer.alloc(0), 'tessera.sms.number-rate-key.v1', 32),
  );
}

export function createSmsGateway(provider: SmsProvider, secret: string | Buffer): SmsGateway {
  return { provider, numberKey: deriveSmsNumberKey(secret) };
}

/**
 * Logs instead of sending: development only (the server never builds it in production). The log
 * line holds the code, as development mail files hold links.
 */
export function developmentSmsProvider(log: (line: string) => void): SmsProvider {
  return {
    name: 'development',
    send(message) {
      log(`development SMS to ${message.to}: ${message.body}`);
      return Promise.resolve();
    },
  };
}

const E164 = /^\+[1-9][0-9]{7,14}$/;

/** Strips spaces, dots, hyphens and parentheses; returns the E.164 form or null. */
export function normalizePhoneNumber(input: string): string | null {
  const compact = input.trim().replace(/[\s().-]/g, '');
  return E164.test(compact) ? compact : null;
}

/** What the console may show: the last two digits only. */
export function phoneHint(e164: string): string {
  return `••${e164.slice(-2)}`;
}

/** A rate-limit key for one number: an HMAC, so the limiter store (maybe Redis) never holds it. */
export function phoneRateKey(gateway: SmsGateway, e164: string): string {
  return createHmac('sha256', gateway.numberKey).update(e164).digest('base64url').slice(0, 32);
}
