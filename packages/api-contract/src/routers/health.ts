import { sql } from 'drizzle-orm';
import { publicProcedure, router } from '../trpc.js';

export const healthRouter = router({
  check: publicProcedure
    .meta({ access: 'public' })
    .query(async ({ ctx }) => {
      await ctx.db.db.execute(sql`SELECT 1`);
      return { status: 'ok' as const, database: 'ok' as const };
    }),
});
