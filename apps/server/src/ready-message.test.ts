// The last start-up line tells a newcomer where the console is and how to make the first tenant.
import { expect, test } from 'vitest';
import { readyMessage } from './start.js';

test('with open sign-up the ready line names the console and its sign-up page', () => {
  const line = readyMessage(
    { publicUrl: 'http://localhost:3000', tenantSignup: 'open' },
    'http://127.0.0.1:3000',
  );
  expect(line).toBe(
    'Tessera is listening on http://127.0.0.1:3000 (console: http://localhost:3000/). Create the first tenant and its owner at http://localhost:3000/sign-up',
  );
});

test('with closed sign-up the ready line says how to open it for the first tenant', () => {
  const line = readyMessage(
    { publicUrl: 'https://id.example.com', tenantSignup: 'closed' },
    'http://0.0.0.0:3000',
  );
  expect(line).toContain('console: https://id.example.com/');
  expect(line).toContain('TENANT_SIGNUP=open');
  expect(line).toContain('https://id.example.com/sign-up');
});
