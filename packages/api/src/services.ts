import type { Services } from '@tessera/api-contract';
import { parseKeyring } from '@tessera/auth';
import {
  createSmsGateway,
  developmentSmsProvider,
  twilioSmsProvider,
  type SmsProvider,
  type TwilioSmsOptions,
} from '@tessera/auth/mfa';
import { parsePepperRing } from '@tessera/auth/api-keys';
import { createTxtLookup, type DomainDnsOptions } from '@tessera/auth/domains';
import { platformProviderInfo, type PlatformProvider } from '@tessera/auth/sso';
import { type OutboundMode } from '@tessera/auth/outbound';
import {
  createRateLimiter,
  MemoryRateLimitStore,
  type RateLimitStore,
} from '@tessera/auth/rate-limit';
import {
  createBreachedPasswordChecker,
  createPasswordService,
  OWASP_PARAMS,
  type PasswordHashingParams,
} from '@tessera/auth/passwords';

export interface ServicesConfig {
  dataEncryptionKeys: string;
  apiKeyPeppers: string;
  sso?: {
    mode: OutboundMode;
    platformProviders: readonly PlatformProvider[];
    onLoopback?: (host: string) => void;
  };
  publicUrl: string;
  signupOpen: boolean;
  passwordParams?: PasswordHashingParams;
  rateLimitStore?: RateLimitStore;
  callLimit: { max: number; windowMs: number };
  breachCheck?: { baseUrl?: string | undefined; onError: (reason: unknown) => void } | undefined;
  /** SMS one-time codes; absent: SMS is unavailable (see selectSmsProvider). */
  sms?: SmsProvider | undefined;
  /** Resolvers for domain verification (docs/domains.md); absent: the system's. */
  domainDns?: DomainDnsOptions | undefined;
}

/**
 * Twilio when configured; in development without it, a provider that only logs (the log line holds
 * the code, as development mail files hold links); in production without Twilio, none.
 */
export function selectSmsProvider(options: {
  production: boolean;
  twilio: TwilioSmsOptions | null;
  log: (line: string) => void;
}): SmsProvider | undefined {
  if (options.twilio) return twilioSmsProvider(options.twilio);
  return options.production ? undefined : developmentSmsProvider(options.log);
}

/** The domain services every request shares, built once from configuration. */
export function createServices(config: ServicesConfig): Services {
  return {
    accounts: {
      passwords: createPasswordService({
        params: config.passwordParams ?? OWASP_PARAMS,
        breachCheck: config.breachCheck
          ? createBreachedPasswordChecker({
              onError: config.breachCheck.onError,
              ...(config.breachCheck.baseUrl ? { baseUrl: config.breachCheck.baseUrl } : {}),
            })
          : undefined,
      }),
      limiter: createRateLimiter(config.rateLimitStore ?? new MemoryRateLimitStore()),
      keyring: parseKeyring(config.dataEncryptionKeys),
      publicUrl: config.publicUrl,
    },
    apiKeys: { peppers: parsePepperRing(config.apiKeyPeppers) },
    signupOpen: config.signupOpen,
    ...(config.sso
      ? {
          sso: {
            outbound: {
              mode: config.sso.mode,
              ...(config.sso.onLoopback ? { onLoopback: config.sso.onLoopback } : {}),
            },
            platformProviders: platformProviderInfo(config.sso.platformProviders),
          },
        }
      : {}),
    callLimit: config.callLimit,
    domains: { lookup: createTxtLookup(config.domainDns) },
    // The per-number rate-limit key is derived from the data keyring: no extra secret to manage.
    ...(config.sms ? { sms: createSmsGateway(config.sms, config.dataEncryptionKeys) } : {}),
  };
}
