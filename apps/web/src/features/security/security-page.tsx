import type { JSX } from 'react';
import { Notice } from '../../components/fields';
import { useLocation } from '../../lib/router';
import type { Me } from '../../lib/session';
import { ChangeEmailSection } from './change-email';
import { ChangePasswordSection } from './change-password';
import { DevicesSection } from './devices-section';
import { EmailCodesSection } from './email-codes-section';
import { MfaSection } from './mfa-section';
import { PasskeysSection } from './passkeys-section';
import { SessionsSection } from './sessions-section';
import { SmsSection } from './sms-section';
import { AuthorizedAppsSection } from './authorized-apps-section';

export function SecurityPage({ me }: { me: Me }): JSX.Element {
  const { search } = useLocation();
  return (
    <>
      <h1>Security</h1>
      {search.get('welcome') ? (
        <Notice>Welcome! Protect your account: turn on two-factor authentication below.</Notice>
      ) : null}
      <MfaSection />
      <PasskeysSection />
      <SmsSection />
      <EmailCodesSection />
      <SessionsSection />
      <DevicesSection />
      <AuthorizedAppsSection />
      <ChangePasswordSection email={me.user.email} />
      <ChangeEmailSection email={me.user.email} />
    </>
  );
}
