/**
 * Twilio adapter for SMS codes (the official `twilio` package, Messages API). Credentials come from
 * configuration (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN[_FILE], TWILIO_FROM); the library's own
 * environment fallbacks are switched off by passing `env: {}`. `httpClient` exists for tests: the
 * request layer is faked there, so no test reaches the network.
 */
import twilio from 'twilio';
import type { SmsProvider } from './sms-provider.js';

export interface TwilioSmsOptions {
  accountSid: string;
  authToken: string;
  /** A Twilio number in E.164 or a Messaging Service SID (MG...). */
  from: string;
  /** Replaces the HTTP layer (tests). */
  httpClient?: unknown;
  timeoutMs?: number;
}

export function twilioSmsProvider(options: TwilioSmsOptions): SmsProvider {
  const client = twilio(options.accountSid, options.authToken, {
    env: {},
    timeout: options.timeoutMs ?? 10_000,
    autoRetry: true,
    maxRetries: 2,
    ...(options.httpClient
      ? { httpClient: options.httpClient as NonNullable<twilio.ClientOpts['httpClient']> }
      : {}),
  });
  const sender = options.from.startsWith('MG')
    ? { messagingServiceSid: options.from }
    : { from: options.from };
  return {
    name: 'twilio',
    async send(message) {
      // Errors carry Twilio's status and code, never the body; the caller logs through the redacting logger.
      await client.messages.create({ to: message.to, body: message.body, ...sender });
    },
  };
}
