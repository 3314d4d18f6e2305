/**
 * Context-specific words a password must not contain (NIST SP 800-63B rev 4 §3.1.1.2: the
 * service's name, the username and derivatives): the e-mail's local part, the tenant's name
 * and slug, each whole, without separators, and split into words.
 *
 * Whole values shorter than 3 characters are ignored, and so are words shorter than 4: words
 * of 3 ("the", "inc", "app") would refuse ordinary passphrases for no security gain, while
 * the whole value still catches "acme-corp" or "jo.li".
 */
import { codePointLength } from './password-text.js';

export interface PasswordContext {
  email?: string | undefined;
  tenantName?: string | undefined;
  tenantSlug?: string | undefined;
}

const MIN_WHOLE_LENGTH = 3;
const MIN_WORD_LENGTH = 4;
const SEPARATORS = /[^\p{L}\p{N}]+/u;

function canonical(value: string): string {
  return value.normalize('NFC').trim().toLowerCase();
}

function localPartOf(email: string): string {
  const at = email.lastIndexOf('@');
  return at === -1 ? email : email.slice(0, at);
}

function termsOf(value: string): string[] {
  const whole = canonical(value);
  const words = whole.split(SEPARATORS);
  return [
    ...[whole, words.join('')].filter((term) => codePointLength(term) >= MIN_WHOLE_LENGTH),
    ...words.filter((word) => codePointLength(word) >= MIN_WORD_LENGTH),
  ];
}

/** The distinct context terms, lower-case; also handed to zxcvbn as user inputs. */
export function contextTerms(context: PasswordContext): string[] {
  const values = [
    context.email === undefined ? undefined : localPartOf(canonical(context.email)),
    context.tenantName,
    context.tenantSlug,
  ];
  const terms = values.flatMap((value) => (value === undefined ? [] : termsOf(value)));
  return [...new Set(terms)];
}

/** True when the password (NFC) contains any context term, ignoring case. */
export function containsContextTerm(password: string, terms: readonly string[]): boolean {
  const lowered = password.toLowerCase();
  return terms.some((term) => lowered.includes(term));
}
