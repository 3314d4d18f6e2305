import { startBenchCluster } from './dist/cluster.js';
import pg from 'pg';
const c = await startBenchCluster();
const client = new pg.Client({ connectionString: c.ownerUrl });
await client.connect();
try {
  for (const s of ['debug_assertions','server_version','shared_buffers','wal_buffers','fsync','jit','huge_pages', 'wal_level']) { const r = await client.query(`SHOW ${s}`); process.stdout.write(`${s}=${Object.values(r.rows[0])[0]}\n`); }
  const r = await client.query(`SELECT pg_config.setting FROM pg_config WHERE name IN ('CONFIGURE','CFLAGS')`); process.stdout.write(r.rows.map(x=>x.setting).join('\n')+'\n');
  let s = performance.now(); await client.query(`SELECT count(*) FROM generate_series(1, 3000000) g WHERE md5(g::text) > 'a'`); process.stdout.write(`md5 3M: ${(performance.now()-s).toFixed(0)} ms\n`);
} finally { await client.end(); await c.stop(); }
