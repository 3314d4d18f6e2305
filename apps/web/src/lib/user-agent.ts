/** "Chrome/126.0 on Linux" from a stored user agent, for session and device lists. */
export function describeUserAgent(userAgent: string | null, unknown: string): string {
  if (!userAgent) return unknown;
  const browser =
    /(Firefox|Edg|Chrome|Chromium|Safari)\/[\d.]+/.exec(userAgent)?.[0] ?? userAgent.slice(0, 40);
  const os = /(Windows|Mac OS X|Android|iPhone|Linux)/.exec(userAgent)?.[0];
  return os ? `${browser} on ${os}` : browser;
}
