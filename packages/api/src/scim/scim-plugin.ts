/**
 * SCIM 2.0 provisioning (RFC 7643/7644; docs/scim.md) at `/scim/v2`: an identity provider (Okta,
 * Microsoft Entra ID) creates, updates, deactivates and deletes a tenant's users and groups.
 *
 * Guarantees: only a SCIM token authenticates here (`Authorization: Bearer scim_...`, looked up by
 * its peppered hash through a SECURITY DEFINER function); the routes declare `principal: false`
 * and `apiKey: false`, so neither a session cookie nor an API key is ever read on them, and a SCIM
 * token is not an API key anywhere else. Each request runs in its token's tenant transaction
 * (RLS), so another tenant's ids answer 404. Every answer, refusals included, is
 * `application/scim+json`; errors use the RFC 7644 §3.12 schema and never carry a cause.
 * Pinned by scim-auth.security.test.ts and the Okta and Entra ID sequence tests beside it.
 */
import type { Keyring } from '@tessera/auth';
import type { PepperRing } from '@tessera/auth/api-keys';
import { verifyScimToken } from '@tessera/auth/scim';
import type { Database } from '@tessera/db';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { SCIM_BODY_LIMIT_BYTES, setScimCaller } from './scim-caller.js';
import { ScimError, scimErrorOf, sendScimError } from './scim-errors.js';
import { registerScimRoutes } from './scim-routes.js';

export const SCIM_PREFIX = '/scim/v2';
declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: a route that reads no cookie, so the CSRF checks have nothing to protect. */
    csrf?: boolean;
  }
}

export interface ScimPluginOptions {
  database: Database;
  peppers: PepperRing;
  /** For the erasure request a SCIM DELETE may open (its notification e-mail is encrypted). */
  keyring: Keyring;
  publicUrl: string;
  now?: () => Date;
}

const BEARER = /^Bearer +(\S{1,200})\s*$/i;
export const scimPlugin = fp<ScimPluginOptions>(
  async (app: FastifyInstance, options) => {
    await app.register(
      async (scope) => {
        scope.addContentTypeParser(
          'application/scim+json',
          { parseAs: 'string', bodyLimit: SCIM_BODY_LIMIT_BYTES },
          scope.getDefaultJsonParser('error', 'error'),
        );
        scope.addHook('onRequest', async (request, reply) => {
          if (request.is404) return;
          const raw = BEARER.exec(request.headers.authorization ?? '')?.[1];
          const token =
            raw === undefined
              ? null
              : await verifyScimToken(options.database.pool, options.peppers, raw);
          if (token === null) {
            request.log.info('scim token refused');
            return sendScimError(
              reply.header('www-authenticate', 'Bearer realm="scim"'),
              new ScimError(401, 'A valid SCIM bearer token is required.'),
            );
          }
          setScimCaller(request, { tokenId: token.id, tenantId: token.tenantId });
        });
        scope.setErrorHandler((error: FastifyError, request, reply) =>
          sendScimError(reply, errorOf(error, request)),
        );
        scope.setNotFoundHandler((_request, reply) =>
          sendScimError(reply, new ScimError(404, 'No such endpoint.')),
        );
        registerScimRoutes(scope, {
          database: options.database,
          keyring: options.keyring,
          base: `${new URL(options.publicUrl).origin}${SCIM_PREFIX}`,
          now: options.now ?? ((): Date => new Date()),
        });
      },
      { prefix: SCIM_PREFIX },
    );
  },
  { name: 'tessera-scim', fastify: '5.x' },
);

function errorOf(error: FastifyError, request: FastifyRequest): ScimError {
  const known = scimErrorOf(error);
  if (known) return known;
  const status = error.statusCode ?? 500;
  if (status === 413) return new ScimError(413, 'The request body is too large.');
  if (status === 415) return new ScimError(415, 'Send application/scim+json or application/json.');
  if (status >= 400 && status < 500)
    return new ScimError(status, 'The request is not valid SCIM.', 'invalidSyntax');
  request.log.error({ err: error }, 'scim request failed');
  return new ScimError(500, 'Something went wrong. Try again later.');
}
