import { apiKeysRouter } from './routers/api-keys.js';
import { auditRouter } from './routers/audit.js';
import { authRouter } from './routers/auth.js';
import { complianceRouter } from './routers/compliance.js';
import { privacyRouter } from './routers/privacy.js';
import { healthRouter } from './routers/health.js';
import { mfaRouter } from './routers/mfa.js';
import { devicesRouter } from './routers/devices.js';
import { otpRouter } from './routers/otp.js';
import { passkeysRouter } from './routers/passkeys.js';
import { sessionsRouter } from './routers/sessions.js';
import { tenantRouter } from './routers/tenant.js';
import { usersRouter } from './routers/users.js';
import { domainsRouter } from './routers/domains.js';
import { scimRouter } from './routers/scim.js';
import { oidcRouter } from './routers/oidc.js';
import { overviewRouter } from './routers/overview.js';
import { rolesRouter } from './routers/roles.js';
import { createCallerFactory, router } from './trpc.js';

export const appRouter = router({
  health: healthRouter,
  auth: authRouter,
  apiKeys: apiKeysRouter,
  audit: auditRouter,
  privacy: privacyRouter,
  compliance: complianceRouter,
  mfa: mfaRouter,
  otp: otpRouter,
  devices: devicesRouter,
  passkeys: passkeysRouter,
  sessions: sessionsRouter,
  tenant: tenantRouter,
  users: usersRouter,
  domains: domainsRouter,
  scim: scimRouter,
  oidc: oidcRouter,
  overview: overviewRouter,
  roles: rolesRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
