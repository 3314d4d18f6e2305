/**
 * A throwaway embedded PostgreSQL for one bench run, set up the way the test harness does
 * (packages/db/src/testing/global-setup.ts): a temporary root readable by the OS user
 * `postgres` (needed when run as root), the migrations applied as the owner, and a runtime
 * login role that is a member of tessera_app and nothing more.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@tessera/db/embedded';
import { migrate, type RuntimeRole } from '@tessera/db';

export const BENCH_DATABASE = 'tessera_bench';

export interface BenchCluster {
  cluster: EmbeddedPostgres;
  /** Superuser (owner of every table; bypasses RLS). */
  ownerUrl: string;
  /** The runtime role request traffic uses (RLS applies). */
  appUrl: string;
  /** For CPU accounting (cpu.ts); null when it cannot be read. */
  postmasterPid: number | null;
  stop(): Promise<void>;
}

export async function startBenchCluster(): Promise<BenchCluster> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'tessera-bench-'));
  await fs.chmod(root, 0o755); // as root, postgres runs as the OS user "postgres"
  const superuserPassword = randomBytes(18).toString('base64url');
  let cluster: EmbeddedPostgres;
  try {
    cluster = await startEmbeddedPostgres({
      dataDir: path.join(root, 'pgdata'),
      superuserPassword,
      // Durability stays at the defaults (fsync and synchronous_commit on) so sign-in commits
      // cost what they cost in production; a larger max_wal_size keeps the 1M-row seed from
      // triggering a checkpoint in the middle of a measurement.
      settings: { max_connections: '300', shared_buffers: '256MB', max_wal_size: '4GB' },
    });
  } catch (error) {
    await fs.rm(root, { recursive: true, force: true });
    throw error;
  }
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  try {
    // eslint-disable-next-line tessera/no-raw-sql-interpolation -- database names cannot be bind parameters; this one is a constant
    await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  } finally {
    await admin.end();
  }
  const runtime: RuntimeRole = {
    user: 'tessera_bench_runtime',
    password: randomBytes(18).toString('base64url'),
  };
  await migrate({ ownerUrl: cluster.url(BENCH_DATABASE), runtimeRole: runtime });
  const pidFile = await fs
    .readFile(path.join(root, 'pgdata', 'postmaster.pid'), 'utf8')
    .catch(() => '');
  const pid = Number(pidFile.split('\n')[0]);
  return {
    cluster,
    postmasterPid: Number.isInteger(pid) && pid > 0 ? pid : null,
    ownerUrl: cluster.url(BENCH_DATABASE),
    appUrl: cluster.url(BENCH_DATABASE, runtime.user, runtime.password),
    stop: async () => {
      await cluster.stop();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}
