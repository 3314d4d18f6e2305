import {
  listRememberedDevices,
  revokeAllRememberedDevices,
  revokeRememberedDevice,
} from '@tessera/auth/mfa';
import { deviceIdInput } from '../inputs/otp.js';
import { router, sessionProcedure } from '../trpc.js';
import { actingUseCaseOf } from '../use-case.js';

// Not for enrollment-only sessions (docs/design.md "MFA" lists what they may call); they have no devices anyway.
const own = { access: { permission: 'self' } } as const;

/** Remembered devices (docs/mfa-factors.md), listed next to sessions; own devices only. */
export const devicesRouter = router({
  list: sessionProcedure
    .meta(own)
    .query(({ ctx }) =>
      ctx.withTenant(
        (tx) =>
          listRememberedDevices(tx, ctx.principal.userId, ctx.cookies.device?.token, ctx.now()),
        { readOnly: true },
      ),
    ),
  revoke: sessionProcedure
    .meta(own)
    .input(deviceIdInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => revokeRememberedDevice(tx, actingUseCaseOf(ctx), input.id));
      return { ok: true as const };
    }),
  revokeAll: sessionProcedure.meta(own).mutation(async ({ ctx }) => {
    const revoked = await ctx.withTenant((tx) =>
      revokeAllRememberedDevices(tx, actingUseCaseOf(ctx), 'revoked_all'),
    );
    ctx.cookies.device?.clear();
    return { revoked };
  }),
});
