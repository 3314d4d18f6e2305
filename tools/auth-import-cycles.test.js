// The folders of packages/auth are layered (docs/design.md "Dependency rule"): a folder imports
// only folders of its own layer or below, no two folders import each other, and no file takes
// part in an import cycle. dependency-cruiser reads the import graph of packages/auth/src the way
// TypeScript resolves it, type-only imports included: a cycle of types is still two folders that
// cannot be understood one without the other.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = 'packages/auth/src';

/**
 * From the bottom up. `.` stands for the files directly in src/ (errors.ts, index.ts). A folder
 * not listed (a new feature) counts as a flow: it may import any layer below, and nothing below
 * it may import it.
 */
const LAYERS = [
  ['.', 'crypto', 'passwords', 'audit', 'rate-limit', 'outbox', 'outbound'],
  ['context'],
  ['tenants'],
  ['sessions'],
  ['shared'],
];

/** The forbidden imports: cycles, and a lower layer reaching up. */
function ruleSet(src, layers) {
  const folder = (name) => (name === '.' ? `${src}/[^/]+$` : `${src}/${name}/`);
  const forbidden = [
    {
      name: 'no-folder-cycle',
      severity: 'error',
      scope: 'folder',
      from: { path: `^${src}/[^/]+` },
      to: { circular: true },
    },
    {
      name: 'no-file-cycle',
      severity: 'error',
      from: { path: `^${src}/` },
      to: { circular: true },
    },
  ];
  layers.forEach((layer, index) => {
    const allowed = layers
      .slice(0, index + 1)
      .flat()
      .map(folder);
    forbidden.push({
      name: `layer-${index}-imports-only-below`,
      severity: 'error',
      from: { path: `^(?:${layer.map(folder).join('|')})` },
      to: { path: `^${src}/`, pathNot: `^(?:${allowed.join('|')})` },
    });
  });
  return { forbidden };
}

async function graph(baseDir, src, layers, tsConfig) {
  const result = await cruise(
    [src],
    {
      baseDir,
      validate: true,
      tsPreCompilationDeps: true,
      exclude: { path: '\\.test\\.ts$' },
      doNotFollow: { path: 'node_modules' },
      ruleSet: ruleSet(src, layers),
    },
    undefined,
    { tsConfig: { fileName: tsConfig } },
  );
  const { summary, modules } = result.output;
  return {
    modules,
    violations: summary.violations.map((v) => ({
      rule: v.rule.name,
      from: v.from,
      to: v.to,
      cycle: (v.cycle ?? []).map((step) => step.name ?? step),
    })),
  };
}

const fixtures = [];
afterAll(() => {
  for (const dir of fixtures) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway package whose src/ holds `files` (path -> source). */
function fixture(files) {
  const dir = mkdtempSync(path.join(tmpdir(), 'auth-cycles-'));
  fixtures.push(dir);
  const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, 'src', file)), { recursive: true });
    writeFileSync(path.join(dir, 'src', file), source);
  }
  return dir;
}

describe('packages/auth import graph', () => {
  test('no cycle between folders or files, and no layer imports one above it', async () => {
    const { modules, violations } = await graph(
      ROOT,
      SRC,
      LAYERS,
      path.join(ROOT, 'packages/auth/tsconfig.json'),
    );
    // The graph was really read: relative `.js` imports resolved to the `.ts` sources.
    const signIn = modules.find((m) => m.source === `${SRC}/accounts/sign-in.ts`);
    expect(signIn?.dependencies.map((d) => d.resolved)).toContain(
      `${SRC}/shared/complete-sign-in.ts`,
    );
    expect(violations).toEqual([]);
  }, 60_000);

  test('the rules see a cycle between folders, between files, and an import upwards', async () => {
    const dir = fixture({
      'a/one.ts': "import { two } from '../b/two.js';\nexport const one = () => two;\n",
      'b/two.ts': "import { one } from '../a/one.js';\nexport const two = () => one;\n",
      'c/three.ts': "import { four } from './four.js';\nexport const three = () => four;\n",
      'c/four.ts': "import { three } from './three.js';\nexport const four = () => three;\n",
      'low/five.ts': "import { three } from '../c/three.js';\nexport const five = three;\n",
    });
    const { violations } = await graph(dir, 'src', [['low']], path.join(dir, 'tsconfig.json'));
    const rules = new Set(violations.map((v) => v.rule));
    expect([...rules].sort()).toEqual([
      'layer-0-imports-only-below',
      'no-file-cycle',
      'no-folder-cycle',
    ]);
    expect(violations).toContainEqual(
      expect.objectContaining({ rule: 'no-folder-cycle', from: 'src/a', to: 'src/b' }),
    );
  }, 60_000);
});
