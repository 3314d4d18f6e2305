// Test harnesses (a test identity provider, a software authenticator, seeders) live in each
// package's `testing/` folder, next to the other helpers, and production code never imports
// them: what `dist/` loads at run time is the product, nothing that only tests need.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNTIME = /^(?:packages|apps)\/[^/]+\/src\/.+\.tsx?$/;
const NOT_RUNTIME =
  /(?:^|\/)testing\/|\.test\.tsx?$|\.spec\.tsx?$|(?:^|\/)(?:tests?|__tests__|fixtures)\//;
/** An import of a testing entry or folder: `@tessera/x/testing`, `../testing/...`, `./testing/...`. */
const TESTING_IMPORT =
  /\bfrom\s+['"](?:@tessera\/[^'"]+\/testing(?:\/[^'"]*)?|\.{1,2}\/(?:[^'"]*\/)?testing\/[^'"]*)['"]/;
/** Names that mark a harness: a file with one belongs under `testing/`. */
const HARNESS_NAME = /(?:test-idp|soft-authenticator|harness|fake-|mock-)/;

function runtimeFiles() {
  const out = execFileSync('git', ['ls-files', '-z', 'packages', 'apps'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.split('\0').filter((file) => RUNTIME.test(file) && !NOT_RUNTIME.test(file));
}

describe('test harnesses stay out of the runtime graph', () => {
  test('no production source file imports a testing helper', () => {
    const offenders = runtimeFiles().filter((file) =>
      TESTING_IMPORT.test(readFileSync(path.join(ROOT, file), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  test('no harness-named file sits in a production folder', () => {
    expect(runtimeFiles().filter((file) => HARNESS_NAME.test(path.basename(file)))).toEqual([]);
  });

  test('the patterns see what they are meant to see', () => {
    expect(TESTING_IMPORT.test("import { freePort } from '@tessera/db/testing';")).toBe(true);
    expect(TESTING_IMPORT.test("import { x } from '../testing/sso-test-idp.js';")).toBe(true);
    expect(TESTING_IMPORT.test("import { x } from './testing.js';")).toBe(false);
    expect(NOT_RUNTIME.test('packages/api/src/testing/sso-test-idp.ts')).toBe(true);
    expect(NOT_RUNTIME.test('packages/api/src/plugins/sso.ts')).toBe(false);
    expect(HARNESS_NAME.test('sso-test-idp.ts')).toBe(true);
  });
});
