/**
 * docs/benchmarks.md is written by more than one program: `pnpm bench` rewrites it, and keeps
 * the sections other programs own (between their markers) as they were.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const DOC_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

export const ROUND_TRIPS = {
  begin: '<!-- round-trips:begin -->',
  end: '<!-- round-trips:end -->',
} as const;
export const SIGN_IN_PRIORITY = {
  begin: '<!-- sign-in-priority:begin -->',
  end: '<!-- sign-in-priority:end -->',
} as const;
export const LOGGING = { begin: '<!-- logging:begin -->', end: '<!-- logging:end -->' } as const;
export const MANY_CLIENTS = {
  begin: '<!-- many-clients:begin -->',
  end: '<!-- many-clients:end -->',
} as const;

export const OVERVIEW = {
  begin: '<!-- overview:begin -->',
  end: '<!-- overview:end -->',
} as const;

type Markers = { readonly begin: string; readonly end: string };

export async function readDoc(): Promise<string> {
  return readFile(DOC_PATH, 'utf8').catch(() => '');
}

/** The text between the markers, or null when the document has no such section. */
export function sectionOf(doc: string, markers: Markers): string | null {
  const from = doc.indexOf(markers.begin);
  const to = doc.indexOf(markers.end);
  if (from < 0 || to < from) return null;
  return doc.slice(from + markers.begin.length, to).trim();
}

/** Replaces the section's body, or appends the section (under `heading`) when it is missing. */
export async function writeSection(markers: Markers, heading: string, body: string): Promise<void> {
  const doc = await readDoc();
  const block = `${markers.begin}\n${body.trim()}\n${markers.end}`;
  const from = doc.indexOf(markers.begin);
  const to = doc.indexOf(markers.end);
  const next =
    from >= 0 && to > from
      ? doc.slice(0, from) + block + doc.slice(to + markers.end.length)
      : `${doc.trimEnd()}\n\n${heading}\n\n${block}\n`;
  await writeFile(DOC_PATH, next);
}
