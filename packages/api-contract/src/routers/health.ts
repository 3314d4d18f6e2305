import { probeDatabase } from '@tessera/db';
import { publicProcedure, router } from '../trpc.js';

export const healthRouter = router({
  // The database's answer is shared with `/healthz`: one `SELECT 1` a second at most, so a flood
  // of health checks costs the database nothing.
  check: publicProcedure.meta({ access: 'public' }).query(async ({ ctx }) => {
    if ((await probeDatabase(ctx.db)) !== 'ok')
      throw new Error('the database did not answer the health probe');
    return { status: 'ok' as const, database: 'ok' as const };
  }),
});
