/**
 * The provider's few server-rendered pages (consent, device code entry, logout confirmation,
 * errors): plain HTML, every interpolated value escaped, no inline script or style, so the
 * strict Content-Security-Policy of oidc-http.ts holds.
 */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** `body` is trusted HTML built by the caller with escapeHtml. */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Tessera</title></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}

/** Human names of the scopes shown on the consent page. */
const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name',
  email: 'See your e-mail address',
  offline_access: 'Stay signed in (keep access while you are away)',
};

export function consentPage(input: {
  clientName: string;
  scopes: string[];
  action: string;
  userEmail: string;
}): string {
  const items = input.scopes
    .map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? `Use: ${s}`)}</li>`)
    .join('');
  return page(
    `Allow ${input.clientName}?`,
    `<p><strong>${escapeHtml(input.clientName)}</strong> wants to use your account
${escapeHtml(input.userEmail)}. It will be able to:</p>
<ul>${items}</ul>
<form method="post" action="${escapeHtml(input.action)}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="${escapeHtml(input.action)}/deny"><button type="submit">Deny</button></form>`,
  );
}
