-- E-mail change (DESIGN "Identity": `auth.requestEmailChange`, confirmed from the new address,
-- the old one notified). The pending address rides on the single-use token row, so it lives and
-- dies with the link (erasure deletes a subject's tokens; see identity-sources.ts).
ALTER TABLE public.user_tokens DROP CONSTRAINT user_tokens_kind_check;
ALTER TABLE public.user_tokens ADD CONSTRAINT user_tokens_kind_check
  CHECK (kind IN ('invite', 'password_reset', 'email_verification', 'email_change'));
ALTER TABLE public.user_tokens ADD COLUMN new_email text;
ALTER TABLE public.user_tokens ADD CONSTRAINT user_tokens_new_email_check
  CHECK ((kind = 'email_change') = (new_email IS NOT NULL) AND (new_email IS NULL OR length(new_email) BETWEEN 3 AND 254));
