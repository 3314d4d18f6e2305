-- E-mail one-time codes as new-device sign-in verification (issue 11; docs/mfa-factors.md).
-- They are NOT a second factor (DESIGN "MFA", NIST SP 800-63B rev 4): the CHECK
-- one_time_codes_no_email_factor (0012) stays, and these codes get a purpose of their own,
-- bound to a challenge of a distinct purpose, so no MFA path can mistake one for the other.
-- No new table: a column and widened CHECKs, so no new RLS policy is needed.

-- The user's opt-in ("e-mail me a code when I sign in from a new device"); NULL = off. It only
-- acts while the tenant's policy sets emailCodesAllowed.
ALTER TABLE public.users ADD COLUMN email_codes_enabled_at timestamptz;

-- What a pending second step is: a real MFA challenge, or the e-mailed sign-in verification.
ALTER TABLE public.mfa_challenges ADD COLUMN purpose text NOT NULL DEFAULT 'mfa';
ALTER TABLE public.mfa_challenges ADD CONSTRAINT mfa_challenges_purpose_check
  CHECK (purpose IN ('mfa', 'sign_in_verification'));

ALTER TABLE public.one_time_codes DROP CONSTRAINT one_time_codes_purpose_check;
ALTER TABLE public.one_time_codes ADD CONSTRAINT one_time_codes_purpose_check
  CHECK (purpose IN ('mfa_sign_in', 'sms_enrollment', 'email_verification', 'sign_in_verification'));
ALTER TABLE public.one_time_codes ADD CONSTRAINT one_time_codes_sign_in_verification
  CHECK (purpose <> 'sign_in_verification' OR (channel = 'email' AND challenge_id IS NOT NULL));
