import { describe, expect, test } from 'vitest';
import {
  createSmsGateway,
  developmentSmsProvider,
  normalizePhoneNumber,
  phoneHint,
  phoneRateKey,
} from './sms-provider.js';
import { twilioSmsProvider } from './sms-provider-twilio.js';

interface Captured {
  method?: string;
  uri?: string;
  username?: string;
  password?: string;
  data?: Record<string, unknown>;
}

/** Stands in for twilio's RequestClient: records the request, answers like the Messages API. */
function fakeHttp(statusCode = 201): {
  client: { request(opts: Captured): Promise<unknown> };
  requests: Captured[];
} {
  const requests: Captured[] = [];
  return {
    requests,
    client: {
      request(opts) {
        requests.push(opts);
        const body =
          statusCode < 300
            ? { sid: 'SM00000000000000000000000000000000', status: 'queued' }
            : {
                code: 21211,
                message: "The 'To' number is not a valid phone number.",
                status: statusCode,
              };
        return Promise.resolve({ statusCode, body: JSON.stringify(body), headers: {} });
      },
    },
  };
}

describe('Twilio adapter', () => {
  test('posts one message to the Messages API of the account, authenticated with its SID and token', async () => {
    const http = fakeHttp();
    const provider = twilioSmsProvider({
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      authToken: 'token-not-real',
      from: '+15005550006',
      httpClient: http.client,
    });
    await provider.send({ to: '+447700900123', body: '123456 is your code' });
    expect(http.requests).toHaveLength(1);
    expect(http.requests[0]).toMatchObject({
      method: 'post',
      uri: 'https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json',
      username: 'AC0123456789abcdef0123456789abcdef',
      password: 'token-not-real',
      data: { To: '+447700900123', From: '+15005550006', Body: '123456 is your code' },
    });
    expect(provider.name).toBe('twilio');
  });

  test('a Messaging Service SID is sent as MessagingServiceSid', async () => {
    const http = fakeHttp();
    await twilioSmsProvider({
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      authToken: 't',
      from: 'MG0123456789abcdef0123456789abcdef',
      httpClient: http.client,
    }).send({ to: '+447700900123', body: 'x' });
    expect(http.requests[0]?.data).toMatchObject({
      MessagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
    });
    expect(http.requests[0]?.data).not.toHaveProperty('From');
  });

  test('an API error rejects the send', async () => {
    const http = fakeHttp(400);
    const provider = twilioSmsProvider({
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      authToken: 't',
      from: '+15005550006',
      httpClient: http.client,
    });
    await expect(provider.send({ to: '+1', body: 'x' })).rejects.toMatchObject({
      status: 400,
      code: 21211,
    });
  });
});

describe('phone numbers', () => {
  test('are normalised to E.164 or refused', () => {
    expect(normalizePhoneNumber(' +44 (7700) 900-123 ')).toBe('+447700900123');
    expect(normalizePhoneNumber('07700 900123')).toBeNull();
    expect(normalizePhoneNumber('+0123456789')).toBeNull();
    expect(normalizePhoneNumber('+1234567890123456')).toBeNull();
  });

  test('show only their last two digits and become keyed rate-limit keys', () => {
    expect(phoneHint('+447700900123')).toBe('••23');
    const a = createSmsGateway(
      developmentSmsProvider(() => undefined),
      'secret-a',
    );
    const b = createSmsGateway(
      developmentSmsProvider(() => undefined),
      'secret-b',
    );
    expect(phoneRateKey(a, '+447700900123')).toBe(phoneRateKey(a, '+447700900123'));
    expect(phoneRateKey(a, '+447700900123')).not.toBe(phoneRateKey(b, '+447700900123'));
    expect(phoneRateKey(a, '+447700900123')).not.toContain('7700900123');
  });

  test('the development provider logs instead of sending', async () => {
    const lines: string[] = [];
    await developmentSmsProvider((line) => lines.push(line)).send({
      to: '+447700900123',
      body: '123456 is your code',
    });
    expect(lines).toEqual(['development SMS to +447700900123: 123456 is your code']);
  });
});
