/**
 * Runs the audit-log bench when bench/src/audit.ts exists. It is written separately,
 * so it is loaded by path and may export `runAuditBench` (or a default function) taking
 * AuditBenchContext and returning Markdown, `{ markdown }`, or plain figures.
 */
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database } from '@tessera/db';

export interface AuditBenchContext {
  /** Runtime role (RLS applies); use withTenant as request traffic does. */
  database: Database;
  /** Owner (superuser) pool, for seeding. */
  owner: Database;
  ownerUrl: string;
  appUrl: string;
  /** Progress lines for the console. */
  log(line: string): void;
}

const NOT_WIRED =
  'Not measured in this run: `bench/src/audit.ts` does not exist yet. When it does, `pnpm bench` runs it and writes its figures here.';

function toMarkdown(result: unknown): string {
  if (typeof result === 'string') return result;
  if (
    result &&
    typeof result === 'object' &&
    typeof (result as { markdown?: unknown }).markdown === 'string'
  ) {
    return (result as { markdown: string }).markdown;
  }
  const entries: [string, unknown][] =
    result && typeof result === 'object' ? Object.entries(result) : [['result', result]];
  return [
    '| figure | value |',
    '|---|---:|',
    ...entries.map(([key, value]) => `| ${key} | ${JSON.stringify(value)} |`),
  ].join('\n');
}

export async function runAuditHook(context: AuditBenchContext): Promise<string> {
  const url = new URL('./audit.js', import.meta.url);
  const exists = await access(fileURLToPath(url)).then(
    () => true,
    () => false,
  );
  if (!exists) return NOT_WIRED;
  try {
    const mod = (await import(url.href)) as { runAuditBench?: unknown; default?: unknown };
    const run = typeof mod.runAuditBench === 'function' ? mod.runAuditBench : mod.default;
    if (typeof run !== 'function')
      return 'bench/src/audit.ts exports neither `runAuditBench` nor a default function; nothing was measured.';
    return toMarkdown(await (run as (context: AuditBenchContext) => Promise<unknown>)(context));
  } catch (error) {
    // The request and sign-in figures stand on their own; report the failure instead of losing them.
    context.log(`audit bench failed: ${error instanceof Error ? error.message : String(error)}`);
    return `The audit bench failed in this run: ${error instanceof Error ? error.message : String(error)}`;
  }
}
