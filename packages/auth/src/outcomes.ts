/**
 * Security outcomes as typed events, published by the flow that decides them: a password sign-in
 * finished, an account newly locked, a second-factor code refused, an API key refused. Observers
 * (the Prometheus series in @tessera/api `plugins/metrics.ts`) subscribe with `onOutcome` and never
 * read answers or audit rows to learn what happened.
 *
 * Guarantees: every refusal reason is an AuthErrorCode or mapped from one (`satisfies` below), so
 * renaming a code in errors.ts fails to compile here, and a new kind of event fails to compile in
 * a subscriber's exhaustive switch until it is handled; events carry no request data (no tenant, user, key, IP); publishing without a subscriber costs
 * one property read. The channel is `node:diagnostics_channel` (process-wide, by name), so two
 * servers in one process both see every event.
 *
 * Callers must not: publish an outcome anywhere but where the flow decides it (the places are
 * listed in docs/deployment.md "Metrics"), or twice for one attempt. Subscribers must be cheap and must not throw (diagnostics_channel
 * reports a subscriber's error as an uncaught exception). An event is published when the flow
 * decides it, which may be inside a transaction that has not committed yet; refusals commit their
 * bookkeeping before they throw (docs/design.md "Failure bookkeeping").
 *
 * Pinned by metrics-feed.db.test.ts (every series moved by the real flow) and metrics.test.ts in
 * @tessera/api.
 */
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { AuthError, type AuthErrorCode, type AuthErrorOptions } from './errors.js';

/** Password sign-in refusals that are outcomes of their own; any other failure is `error`. */
export const SIGN_IN_REFUSALS = [
  'invalid_credentials',
  'account_locked',
  'account_disabled',
  'rate_limited',
] as const satisfies readonly AuthErrorCode[];
export type SignInOutcome =
  'signed_in' | 'mfa_required' | (typeof SIGN_IN_REFUSALS)[number] | 'error';
export const SIGN_IN_OUTCOMES: readonly SignInOutcome[] = [
  'signed_in',
  'mfa_required',
  ...SIGN_IN_REFUSALS,
  'error',
];

export const MFA_FAILURE_REASONS = [
  'mfa_code_invalid',
  'mfa_code_replayed',
] as const satisfies readonly AuthErrorCode[];
export type MfaFailureReason = (typeof MFA_FAILURE_REASONS)[number];

/**
 * A refused key's outcome by its error code. Unknown, malformed, revoked and expired keys share
 * `api_key_invalid` on purpose (no oracle); the audit log's `api_key.refused` keeps the finer reason.
 */
const API_KEY_REFUSAL_BY_CODE = {
  api_key_invalid: 'invalid',
  api_key_forbidden: 'forbidden',
  api_key_rate_limited: 'rate_limited',
  api_key_quota_exhausted: 'quota_exhausted',
} as const satisfies Partial<Record<AuthErrorCode, string>>;
export type ApiKeyRefusalCode = keyof typeof API_KEY_REFUSAL_BY_CODE;
export type ApiKeyRefusalOutcome = (typeof API_KEY_REFUSAL_BY_CODE)[ApiKeyRefusalCode];
export const API_KEY_REFUSAL_OUTCOMES: readonly ApiKeyRefusalOutcome[] =
  Object.values(API_KEY_REFUSAL_BY_CODE);

export type OutcomeEvent =
  | { readonly kind: 'sign_in'; readonly outcome: SignInOutcome }
  /** A new lock after repeated failures (not a refused attempt while locked). */
  | { readonly kind: 'account_locked' }
  | { readonly kind: 'mfa_failure'; readonly reason: MfaFailureReason }
  | { readonly kind: 'api_key_refused'; readonly reason: ApiKeyRefusalOutcome };

export const OUTCOME_CHANNEL = 'tessera.auth.outcome';
const outcomes = channel(OUTCOME_CHANNEL);

export function publishOutcome(event: OutcomeEvent): void {
  if (outcomes.hasSubscribers) outcomes.publish(event);
}

/** Subscribes to every outcome event in this process; returns the unsubscribe function. */
export function onOutcome(listener: (event: OutcomeEvent) => void): () => void {
  const subscriber = (message: unknown): void => listener(message as OutcomeEvent);
  subscribe(OUTCOME_CHANNEL, subscriber);
  return () => void unsubscribe(OUTCOME_CHANNEL, subscriber);
}

/** What a password sign-in that threw counts as: its refusal code, else `error`. */
export function signInOutcomeOf(error: unknown): SignInOutcome {
  if (!(error instanceof AuthError)) return 'error';
  const refusals: readonly AuthErrorCode[] = SIGN_IN_REFUSALS;
  return refusals.includes(error.code) ? (error.code as SignInOutcome) : 'error';
}

/** A refused second-factor code: publishes the failure and returns the error to throw. */
export function mfaCodeRefused(reason: MfaFailureReason, options?: AuthErrorOptions): AuthError {
  publishOutcome({ kind: 'mfa_failure', reason });
  return new AuthError(reason, options);
}

/** A refused API key: publishes the refusal and returns the error to throw. */
export function apiKeyRefused(code: ApiKeyRefusalCode, options?: AuthErrorOptions): AuthError {
  publishOutcome({ kind: 'api_key_refused', reason: API_KEY_REFUSAL_BY_CODE[code] });
  return new AuthError(code, options);
}

/**
 * For a key refusal built elsewhere (the verifier's errors, answered by the API-key resolver):
 * publishes it when its code is an API-key refusal, else does nothing.
 */
export function publishApiKeyRefusal(error: AuthError): void {
  if (Object.hasOwn(API_KEY_REFUSAL_BY_CODE, error.code))
    publishOutcome({
      kind: 'api_key_refused',
      reason: API_KEY_REFUSAL_BY_CODE[error.code as ApiKeyRefusalCode],
    });
}
