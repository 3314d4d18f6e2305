/**
 * Passkey ceremonies in the browser (@simplewebauthn/browser): options from the server, the
 * authenticator prompt, the response back to the server. Nothing is stored in the page: the
 * challenge lives on the server (hashed, single use), the session in the httpOnly cookie.
 */
import { startAuthentication, startRegistration, WebAuthnError } from '@simplewebauthn/browser';
import { toApiError } from './errors';
import { api, type Outputs } from './trpc';

type SignedIn = Outputs['passkeys']['verifyAuthentication'];

type RequestOptions = Parameters<typeof startAuthentication>[0]['optionsJSON'];
type CreationOptions = Parameters<typeof startRegistration>[0]['optionsJSON'];

/** Browser-side failures (cancelled prompt, no authenticator) as a sentence for the page. */
function friendly(error: unknown): Error {
  if (
    error instanceof WebAuthnError ||
    (error instanceof Error && error.name === 'NotAllowedError')
  ) {
    if (
      error instanceof WebAuthnError &&
      error.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED'
    )
      return new Error('This authenticator already holds a passkey for your account.');
    return new Error('The passkey prompt was cancelled or timed out. Try again.');
  }
  return error instanceof Error ? error : new Error('Passkeys are not available in this browser.');
}

async function authenticate(
  options: unknown,
): Promise<Awaited<ReturnType<typeof startAuthentication>>> {
  try {
    return await startAuthentication({ optionsJSON: options as RequestOptions });
  } catch (error) {
    throw friendly(error);
  }
}

export async function createPasskey(name: string): Promise<{ id: string; name: string }> {
  const options = await api.passkeys.registrationOptions.mutate();
  let response: Awaited<ReturnType<typeof startRegistration>>;
  try {
    response = await startRegistration({ optionsJSON: options as unknown as CreationOptions });
  } catch (error) {
    throw friendly(error);
  }
  return (await api.passkeys.verifyRegistration.mutate({ response, name })).passkey;
}

/** Second factor after the password step (the challenge token is kept in memory only). */
export async function passkeySecondFactor(challengeToken: string): Promise<SignedIn> {
  const options = await api.passkeys.authenticationOptions.mutate({ challengeToken });
  const response = await authenticate(options);
  return api.passkeys.verifyAuthentication.mutate({ challengeToken, response });
}

/** Passwordless, where the organisation allows it: the authenticator offers its passkeys. */
export async function passkeyPasswordless(tenantSlug: string): Promise<SignedIn> {
  const options = await api.passkeys.authenticationOptions.mutate({ tenantSlug });
  const response = await authenticate(options);
  return api.passkeys.verifyAuthentication.mutate({ tenantSlug, response });
}

export async function passkeyStepUp(): Promise<void> {
  const options = await api.passkeys.stepUpOptions.mutate();
  await api.passkeys.stepUp.mutate({ response: await authenticate(options) });
}

/**
 * Runs `fn`; when the server asks for step-up and the user has a passkey, confirms with the
 * passkey and retries once. Otherwise the error goes on (the code dialog of step-up.tsx).
 */
export async function withPasskeyStepUp<R>(fn: () => Promise<R>, hasPasskey: boolean): Promise<R> {
  try {
    return await fn();
  } catch (error) {
    if (!hasPasskey || toApiError(error).reason !== 'step_up_required') throw error;
    try {
      await passkeyStepUp();
    } catch {
      throw error;
    }
    return fn();
  }
}
