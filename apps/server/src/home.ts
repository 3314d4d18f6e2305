/**
 * The default TESSERA_HOME. It is `<checkout>/.tessera` unless the embedded PostgreSQL could not
 * reach it: started as root, Tessera runs PostgreSQL as the OS user `postgres`, who cannot pass
 * through a 0700 folder such as root's home or a `mktemp -d` folder. Then the home is a folder of
 * its own for this checkout, `/var/lib/tessera/<checkout name>-<hash of the checkout path>` (or
 * the same under the temp folder when /var/lib cannot be written), so the same checkout finds its
 * data and development secrets again after a restart. An explicit TESSERA_HOME is never moved.
 * Pinned by home.test.ts and, end to end, by tests/first-run/fresh-clone.test.ts.
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, realpathSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { embeddedHomeReachable, reachableByOthers } from '@tessera/db/embedded';

/** Where per-checkout homes go, first choice first. */
export function stateRoots(): string[] {
  return ['/var/lib/tessera', path.join(os.tmpdir(), 'tessera')];
}

/** `<checkout folder name>-<first 12 hex of sha256(real checkout path)>`: stable per checkout. */
export function checkoutFolderName(checkout: string): string {
  let real = path.resolve(checkout);
  try {
    real = realpathSync(real);
  } catch {
    // a checkout that does not exist yet keeps its resolved path
  }
  const name = path.basename(real).replace(/[^A-Za-z0-9._-]/g, '_') || 'checkout';
  return `${name}-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`;
}

/**
 * Creates `root` as a root-owned 0755 folder, or accepts it when it already is one. A folder of
 * the shared temp folder that someone else made, or that others may write, could let them swap
 * a home for their own: refuse it.
 */
function ensureStateRoot(root: string): boolean {
  try {
    mkdirSync(root, { recursive: true, mode: 0o755 });
    const stat = lstatSync(root);
    if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) return false;
    if ((stat.mode & 0o755) !== 0o755) chmodSync(root, (stat.mode & 0o777) | 0o755);
    return reachableByOthers(root);
  } catch {
    return false; // read-only or missing file system: try the next root
  }
}

export interface HomeProbe {
  /** Could the embedded PostgreSQL reach a cluster under this home? */
  reachable(home: string): boolean;
  /** Makes `root` ready for per-checkout homes; false when it cannot be used. */
  prepareRoot(root: string): boolean;
}

const processProbe: HomeProbe = { reachable: embeddedHomeReachable, prepareRoot: ensureStateRoot };

/**
 * The home for a default (not configured) TESSERA_HOME: `checkoutHome` when the embedded
 * PostgreSQL can reach it, else a per-checkout folder under the first usable state root, else
 * `checkoutHome` again (start-up then stops with a message naming TESSERA_HOME).
 */
export function defaultHome(
  checkout: string,
  checkoutHome: string,
  probe: HomeProbe = processProbe,
  roots: readonly string[] = stateRoots(),
): string {
  if (probe.reachable(checkoutHome)) return checkoutHome;
  for (const root of roots) {
    if (probe.prepareRoot(root)) return path.join(root, checkoutFolderName(checkout));
  }
  return checkoutHome;
}
