// Comments and documents speak to their readers about the code as it is (docs/contributing.md
// convention 14): they cite docs/design.md, docs/contributing.md, another file in the repository or
// a standard, never a design file kept outside the repository or a ticket number. This test reads
// every tracked text file and fails on either, naming the file and line, so neither comes back.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Generated files, and files that are not prose or code we write. */
const SKIPPED = new Set(['docs/benchmarks.md', 'pnpm-lock.yaml']);
/**
 * The bench writes docs/benchmarks.md from its own report text; it is checked with the bench.
 * Migrations are immutable once applied: the migrator refuses a file whose checksum changed, so
 * their comments stay as written and new migrations follow the rule.
 */
const SKIPPED_FOLDERS = ['migrations/'];
/** Migrations up to this number cite the old files in comments they can no longer change. */
const LAST_UNCHECKED_MIGRATION = 21;
const TEXT =
  /\.(?:ts|tsx|js|mjs|cjs|md|sql|ya?ml|json|sh|css|html)$|(?:^|\/)(?:Dockerfile|run|apt-packages)$/;

// The old shared design files, by name or in the citation forms they were used in (the
// upper-case name followed by a rule number, a quoted section or a convention number). Upper
// case only, so docs/design.md and docs/contributing.md never match.
const OUTSIDE_DESIGN =
  /\b(?:DESIGN|STYLE)\.md\b|\bDESIGN(?:'s)?\s+(?:rules?\s+\d|"|public contract|layout)|\bSTYLE\s+(?:convention|"|\d)/;
// A ticket number: "issue" or "issues" followed by a number (also "#" forms).
const ISSUE_NUMBER = /\bissues?\s+#?\d+/i;

function isNewMigration(file) {
  const match = /^migrations\/(\d{4})_/.exec(file);
  return match !== null && Number(match[1]) > LAST_UNCHECKED_MIGRATION;
}

function trackedTextFiles() {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((file) => file && TEXT.test(file) && !SKIPPED.has(file))
    .filter(
      (file) => !SKIPPED_FOLDERS.some((folder) => file.startsWith(folder)) || isNewMigration(file),
    );
}

function offendingLines(pattern) {
  const found = [];
  for (const file of trackedTextFiles()) {
    let text;
    try {
      text = readFileSync(path.join(ROOT, file), 'utf8');
    } catch {
      continue; // listed by git but deleted in the working tree
    }
    text.split('\n').forEach((line, index) => {
      if (pattern.test(line)) found.push(`${file}:${index + 1}: ${line.trim().slice(0, 120)}`);
    });
  }
  return found;
}

describe('comments and documents cite what a reader can open', () => {
  test('the patterns match the forms they are meant to catch, and not their replacements', () => {
    const design = 'DESIGN';
    const style = 'STYLE';
    expect(OUTSIDE_DESIGN.test(`(${design} rule 3)`)).toBe(true);
    expect(OUTSIDE_DESIGN.test(`(${design} "Privacy")`)).toBe(true);
    expect(OUTSIDE_DESIGN.test(`see ${design}.md`)).toBe(true);
    expect(OUTSIDE_DESIGN.test(`(${style} convention 16)`)).toBe(true);
    expect(OUTSIDE_DESIGN.test('(docs/design.md rule 3)')).toBe(false);
    expect(OUTSIDE_DESIGN.test('(docs/contributing.md convention 16)')).toBe(false);
    expect(ISSUE_NUMBER.test(['(issue', '7)'].join(' '))).toBe(true);
    expect(ISSUE_NUMBER.test(['Issues', '8, 7'].join(' '))).toBe(true);
    expect(ISSUE_NUMBER.test('for (const issue of error.issues)')).toBe(false);
    expect(ISSUE_NUMBER.test('the issuer (iss) and issue.message')).toBe(false);
  });

  test('no file cites a design or style file kept outside the repository', () => {
    expect(offendingLines(OUTSIDE_DESIGN)).toEqual([]);
  });

  test('no file cites an issue number', () => {
    expect(offendingLines(ISSUE_NUMBER)).toEqual([]);
  });
});
