/** `pnpm migrate`: apply migrations to DATABASE_URL (owner) and create the APP_DATABASE_URL role; never serves. */
import { migrate } from '@tessera/db';
import { ConfigError, loadConfigFromProcess } from '../config.js';
import { runtimeRoleFromUrl } from '../database.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

try {
  const config = loadConfigFromProcess();
  if (!config.database)
    throw new ConfigError(
      ['DATABASE_URL'],
      'pnpm migrate needs DATABASE_URL and APP_DATABASE_URL (the embedded database migrates itself at start)',
    );
  const { applied } = await migrate({
    ownerUrl: config.database.ownerUrl,
    runtimeRole: runtimeRoleFromUrl(config.database.appUrl),
    log,
  });
  log(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date');
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
