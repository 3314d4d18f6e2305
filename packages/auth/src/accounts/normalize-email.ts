/** docs/design.md "Identity": e-mail is compared trimmed, NFC, lower-case; unique per tenant. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isPlausibleEmail(email: string): boolean {
  return email.length >= 3 && email.length <= 254 && EMAIL.test(email);
}
