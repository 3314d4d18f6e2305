import { startBenchCluster } from './dist/cluster.js';
import pg from 'pg';
const c = await startBenchCluster();
const client = new pg.Client({ connectionString: c.ownerUrl });
await client.connect();
const t = async (label, sql, params) => { const s = performance.now(); await client.query(sql, params); process.stdout.write(`${label}: ${((performance.now()-s)/1000).toFixed(1)} s\n`); };
try {
  await t('begin', 'BEGIN');
  await t('srr', 'SET LOCAL session_replication_role = replica');
  await t('tenants', `INSERT INTO public.tenants (id, slug, name) SELECT gen_random_uuid(), 'bench-' || lpad(i::text, 4, '0'), 'Bench tenant ' || i FROM generate_series(1, 1000) AS i`);
  await t('users', `INSERT INTO public.users (tenant_id, email, display_name, role, created_at, updated_at)
     SELECT t.id, 'user' || g || '@bench.example', 'User ' || g, CASE WHEN g = 1 THEN 'owner' ELSE 'member' END, now(), now()
       FROM public.tenants t CROSS JOIN generate_series(1, 1000) AS g`);
  await t('commit', 'COMMIT');
  await t('vacuum', 'VACUUM (ANALYZE) public.tenants, public.users');
  await t('analyze only', 'ANALYZE public.users');
} finally { await client.end(); await c.stop(); }
