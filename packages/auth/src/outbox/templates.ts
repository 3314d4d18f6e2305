/**
 * Security notifications. Each tells the user what happened and what to do if it was
 * not them. Bodies are plain text; values are inserted verbatim, never as markup.
 */
export type EmailTemplate =
  | { name: 'invite'; tenantName: string; link: string; role: string }
  | { name: 'password_reset'; tenantName: string; link: string }
  | { name: 'verify_email'; tenantName: string; link: string }
  | { name: 'password_changed'; tenantName: string }
  | { name: 'password_reset_done'; tenantName: string }
  | { name: 'new_sign_in'; tenantName: string; ip: string; userAgent: string; at: string }
  | { name: 'account_locked'; tenantName: string; minutes: number }
  | { name: 'password_confirmation_failed'; tenantName: string; failures: number }
  | { name: 'mfa_enabled'; tenantName: string }
  | { name: 'mfa_disabled'; tenantName: string }
  | { name: 'api_key_created'; tenantName: string; keyName: string; prefix: string }
  | { name: 'confirm_email_change'; tenantName: string; link: string }
  | { name: 'email_change_requested'; tenantName: string; newAddress: string }
  | { name: 'email_changed'; tenantName: string; newAddress: string }
  | { name: 'passkey_added'; tenantName: string; passkeyName: string }
  | { name: 'passkey_removed'; tenantName: string; passkeyName: string }
  | { name: 'sign_in_code'; tenantName: string; code: string; ip: string; userAgent: string }
  | { name: 'email_codes_disabled'; tenantName: string }
  | { name: 'domain_verification_lost'; tenantName: string; domain: string };

const NOT_YOU = 'If this was not you, reset your password now and contact your administrator.';

export function renderEmail(t: EmailTemplate): { subject: string; body: string } {
  switch (t.name) {
    case 'invite':
      return {
        subject: `You are invited to ${t.tenantName}`,
        body: `You have been invited to ${t.tenantName} as ${t.role}.\n\nAccept within 7 days: ${t.link}\n\nIf you did not expect this, ignore this message.`,
      };
    case 'password_reset':
      return {
        subject: `Reset your ${t.tenantName} password`,
        body: `Someone asked to reset your password. The link works once, for 30 minutes:\n\n${t.link}\n\nIf this was not you, ignore this message; your password is unchanged.`,
      };
    case 'verify_email':
      return {
        subject: `Confirm your e-mail address for ${t.tenantName}`,
        body: `Confirm this address within 24 hours: ${t.link}\n\nIf you did not ask for this, ignore this message.`,
      };
    case 'password_changed':
      return {
        subject: 'Your password was changed',
        body: `Your ${t.tenantName} password was changed and your other sessions were signed out.\n\n${NOT_YOU}`,
      };
    case 'password_reset_done':
      return {
        subject: 'Your password was reset',
        body: `Your ${t.tenantName} password was reset and every session was signed out.\n\n${NOT_YOU}`,
      };
    case 'new_sign_in':
      return {
        subject: 'New sign-in to your account',
        body: `A new sign-in to ${t.tenantName} at ${t.at} from ${t.ip} (${t.userAgent}).\n\n${NOT_YOU}`,
      };
    case 'account_locked':
      return {
        subject: 'Your account was locked',
        body: `After repeated failed sign-ins, your ${t.tenantName} account is locked for ${t.minutes} minutes.\n\nIf this was not you, someone may be guessing your password: reset it and enable two-factor authentication.`,
      };
    case 'password_confirmation_failed':
      return {
        subject: 'Wrong password entered on your account',
        body: `A wrong password was entered ${t.failures} times in a row for your ${t.tenantName} account, most recently to confirm a change in a signed-in session. More failures lock the account.\n\nIf this was not you, someone may be using one of your sessions: sign out everywhere, reset your password and contact your administrator.`,
      };
    case 'mfa_enabled':
      return {
        subject: 'Two-factor authentication enabled',
        body: `Two-factor authentication was enabled on your ${t.tenantName} account.\n\n${NOT_YOU}`,
      };
    case 'mfa_disabled':
      return {
        subject: 'Two-factor authentication disabled',
        body: `Two-factor authentication was disabled on your ${t.tenantName} account.\n\n${NOT_YOU}`,
      };
    case 'confirm_email_change':
      return {
        subject: `Confirm your new e-mail address for ${t.tenantName}`,
        body: `Someone asked to use this address for their ${t.tenantName} account. Confirm within 24 hours: ${t.link}\n\nIf you did not ask for this, ignore this message; nothing changes.`,
      };
    case 'email_change_requested':
      return {
        subject: 'A change of your e-mail address was requested',
        body: `Someone signed in to your ${t.tenantName} account asked to change its address to ${t.newAddress}. It changes only when that address confirms.\n\n${NOT_YOU}`,
      };
    case 'email_changed':
      return {
        subject: 'Your e-mail address was changed',
        body: `Your ${t.tenantName} account now uses ${t.newAddress}; this address no longer signs in or receives its mail.\n\n${NOT_YOU}`,
      };
    case 'passkey_added':
      return {
        subject: 'A passkey was added to your account',
        body: `The passkey "${t.passkeyName}" can now sign in to your ${t.tenantName} account.\n\n${NOT_YOU}`,
      };
    case 'passkey_removed':
      return {
        subject: 'A passkey was removed from your account',
        body: `The passkey "${t.passkeyName}" was removed from your ${t.tenantName} account.\n\n${NOT_YOU}`,
      };
    case 'sign_in_code':
      return {
        subject: `Your ${t.tenantName} sign-in code`,
        body: `${t.code} is your code to finish signing in to ${t.tenantName} from a new device (${t.ip}, ${t.userAgent}). It expires in 10 minutes. Never share it.\n\nIf this was not you, someone knows your password: reset it now and contact your administrator.`,
      };
    case 'domain_verification_lost':
      return {
        subject: `Domain ${t.domain} is no longer verified`,
        body: `The DNS record that proves ${t.tenantName} controls ${t.domain} was not found when it was last checked. Until it is back, single sign-on is not required for ${t.domain} addresses and they no longer join automatically.\n\nPublish the TXT record shown on the Domains page of the console again, then choose Verify. If you did not expect this, check who changed your DNS.`,
      };
    case 'email_codes_disabled':
      return {
        subject: 'Sign-in codes by e-mail turned off',
        body: `New devices no longer need a code from this address to sign in to your ${t.tenantName} account.\n\n${NOT_YOU}`,
      };
    case 'api_key_created':
      return {
        subject: 'A new API key was created',
        body: `The API key "${t.keyName}" (${t.prefix}...) was created in ${t.tenantName}.\n\nIf you did not expect this, revoke it in the console.`,
      };
  }
}
