/**
 * Signatures of privacy webhooks (Art. 19; docs/privacy.md "Webhooks").
 *
 * Guarantees: `Tessera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`
 * binds the exact body bytes to a timestamp, so a receiver that verifies with
 * `verifyWebhookSignature` rejects a changed body, a changed timestamp, and a captured request
 * replayed after the tolerance (default 5 minutes). During a secret rotation's grace period a
 * header carries one `v1=` per secret; any one matching is enough. Comparison is constant-time.
 * Callers must not: verify a re-serialised body (verify the raw bytes received). Pinned by
 * webhook-signature.test.ts and the delivery tests.
 */
import { timingSafeEqual } from 'node:crypto';
import { hmacSha256 } from '../crypto/tokens.js';

export const WEBHOOK_SIGNATURE_HEADER = 'Tessera-Signature';
export const WEBHOOK_EVENT_ID_HEADER = 'Tessera-Event-Id';
export const WEBHOOK_EVENT_TYPE_HEADER = 'Tessera-Event-Type';
/** Default replay window of a receiver, in seconds. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const HEX_SHA256 = /^[0-9a-f]{64}$/;

function digest(secret: string, timestamp: number, body: string | Uint8Array): Buffer {
  const prefix = Buffer.from(`${timestamp}.`, 'utf8');
  return hmacSha256(
    secret,
    Buffer.concat([
      prefix,
      typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body),
    ]),
  );
}

/** The header value for `body` sent at `now`, signed with every secret given (current first). */
export function signWebhookPayload(secrets: readonly string[], body: string, now: Date): string {
  if (secrets.length === 0) throw new TypeError('at least one secret is needed to sign');
  const timestamp = Math.floor(now.getTime() / 1000);
  return [
    `t=${timestamp}`,
    ...secrets.map((secret) => `v1=${digest(secret, timestamp, body).toString('hex')}`),
  ].join(',');
}

/**
 * True when `header` carries a `v1` HMAC of `body` under `secret` and a timestamp within
 * `toleranceSeconds` of `now` (either side). False for anything malformed, stale or forged.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Uint8Array,
  toleranceSeconds: number = WEBHOOK_TOLERANCE_SECONDS,
  now: Date = new Date(),
): boolean {
  if (!header || header.length > 1000 || !secret) return false;
  let timestamp: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [key, value, ...rest] = part.trim().split('=');
    if (rest.length > 0 || value === undefined) return false;
    if (key === 't') timestamp = /^\d{1,12}$/.test(value) ? Number(value) : null;
    else if (key === 'v1' && HEX_SHA256.test(value)) candidates.push(value);
  }
  if (timestamp === null || candidates.length === 0) return false;
  // Replay: a captured request is refused once its timestamp leaves the window.
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = digest(secret, timestamp, body);
  let match = false;
  for (const candidate of candidates)
    match = timingSafeEqual(expected, Buffer.from(candidate, 'hex')) || match;
  return match;
}
