// The default home moves out of the checkout only when the embedded PostgreSQL (run as the OS
// user "postgres" when Tessera runs as root) could not reach `.tessera/`, and then always to the
// same per-checkout folder, so a restart finds its data and development secrets again.
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { checkoutFolderName, defaultHome, type HomeProbe } from './home.js';

const checkout = '/root/work/tessera';
const checkoutHome = path.join(checkout, '.tessera');
const roots = ['/var/lib/tessera', '/tmp/tessera'];

function probe(
  reachable: boolean,
  usableRoots: readonly string[] = roots,
): HomeProbe & { prepared: string[] } {
  const prepared: string[] = [];
  return {
    prepared,
    reachable: () => reachable,
    prepareRoot: (root) => {
      prepared.push(root);
      return usableRoots.includes(root);
    },
  };
}

test('a checkout the postgres user can reach keeps its .tessera/ and creates nothing elsewhere', () => {
  const p = probe(true);
  expect(defaultHome(checkout, checkoutHome, p, roots)).toBe(checkoutHome);
  expect(p.prepared).toEqual([]);
});

test('an unreachable checkout gets a folder of its own under /var/lib/tessera, the same on every start', () => {
  const first = defaultHome(checkout, checkoutHome, probe(false), roots);
  expect(first).toMatch(/^\/var\/lib\/tessera\/tessera-[0-9a-f]{12}$/);
  expect(defaultHome(checkout, checkoutHome, probe(false), roots)).toBe(first);
});

test('two checkouts with the same folder name get different homes', () => {
  expect(checkoutFolderName('/root/a/tessera')).not.toBe(checkoutFolderName('/root/b/tessera'));
  expect(checkoutFolderName('/root/a/tessera')).toBe(checkoutFolderName('/root/a/tessera/'));
});

test('when /var/lib/tessera cannot be used the temp folder is next; when nothing can, the checkout home stays', () => {
  expect(defaultHome(checkout, checkoutHome, probe(false, ['/tmp/tessera']), roots)).toMatch(
    /^\/tmp\/tessera\/tessera-[0-9a-f]{12}$/,
  );
  expect(defaultHome(checkout, checkoutHome, probe(false, []), roots)).toBe(checkoutHome);
});

test('odd characters in the checkout name do not reach the folder name', () => {
  expect(checkoutFolderName('/srv/my tessera;$(x)')).toMatch(/^my_tessera___x_-[0-9a-f]{12}$/);
});
