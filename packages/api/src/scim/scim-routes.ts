/**
 * The /scim/v2 routes (RFC 7644 §3): discovery, Users and Groups. Each handler runs one tenant
 * transaction for the verified token (scim-plugin.ts) and calls the services in
 * @tessera/auth/scim; resource shapes are read and written by scim-users.ts and scim-groups.ts.
 */
import type { Keyring } from '@tessera/auth';
import { createPrivacyRequest } from '@tessera/auth/privacy';
import {
  createScimGroup,
  createScimUser,
  deleteScimGroup,
  deleteScimUser,
  findScimGroup,
  findScimUser,
  getScimSettings,
  listScimGroups,
  listScimUsers,
  replaceScimGroup,
  replaceScimUser,
  type ScimActor,
} from '@tessera/auth/scim';
import { withTenant, type Database, type TenantTx } from '@tessera/db';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ScimError, SCIM_CONTENT_TYPE } from './scim-errors.js';
import { pageOf, parseScimFilter } from './scim-filter.js';
import { groupAttributesOf, groupResourceOf } from './scim-groups.js';
import { applyPatch } from './scim-patch-request.js';
import { SCIM_BODY_LIMIT_BYTES, scimCallerOf } from './scim-caller.js';
import {
  GROUP_SCHEMA,
  listResponseOf,
  MAX_PAGE_SIZE,
  resourceTypesOf,
  schemasOf,
  serviceProviderConfigOf,
  USER_SCHEMA,
} from './scim-schemas.js';
import { userAttributesOf, userResourceOf } from './scim-users.js';

export interface ScimRouteOptions {
  database: Database;
  keyring: Keyring;
  /** Absolute URL of /scim/v2, for `meta.location` and `$ref`. */
  base: string;
  now: () => Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** The `{id}` path parameter; anything but a UUID names no resource (404, before any query). */
function idOf(request: FastifyRequest): string {
  const id = (request.params as { id?: string }).id ?? '';
  if (!UUID.test(id)) throw new ScimError(404, 'Resource not found.');
  return id.toLowerCase();
}

function excludesMembers(query: Record<string, unknown>): boolean {
  const excluded = query['excludedAttributes'];
  return typeof excluded === 'string' && excluded.toLowerCase().split(',').includes('members');
}

export function registerScimRoutes(app: FastifyInstance, options: ScimRouteOptions): void {
  const { base, now } = options;
  const inTenant = <T>(
    request: FastifyRequest,
    work: (tx: TenantTx, actor: ScimActor) => Promise<T>,
  ): Promise<T> => {
    const caller = scimCallerOf(request);
    const actor: ScimActor = {
      tokenId: caller.tokenId,
      origin: { ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 512) ?? null },
    };
    return withTenant(options.database, caller.tenantId, (tx) => work(tx, actor));
  };
  const route = (method: RouteOptions['method'], url: string, handler: Handler): void => {
    app.route({
      method,
      url,
      bodyLimit: SCIM_BODY_LIMIT_BYTES,
      config: { principal: false, apiKey: false, csrf: false, answers: 'data' },
      handler,
    });
  };

  route('GET', '/ServiceProviderConfig', async (_request, reply) =>
    send(reply, 200, serviceProviderConfigOf(base)),
  );
  route('GET', '/ResourceTypes', async (_request, reply) => {
    const types = resourceTypesOf(base);
    return send(reply, 200, listResponseOf(types, types.length, 1));
  });
  route('GET', '/ResourceTypes/:id', async (request, reply) => {
    const found = resourceTypesOf(base).find(
      (t) => t['id'] === (request.params as { id: string }).id,
    );
    if (!found) throw new ScimError(404, 'Resource not found.');
    return send(reply, 200, found);
  });
  route('GET', '/Schemas', async (_request, reply) => {
    const schemas = schemasOf(base);
    return send(reply, 200, listResponseOf(schemas, schemas.length, 1));
  });
  route('GET', '/Schemas/:id', async (request, reply) => {
    const found = schemasOf(base).find((s) => s['id'] === (request.params as { id: string }).id);
    if (!found) throw new ScimError(404, 'Resource not found.');
    return send(reply, 200, found);
  });

  // Users
  route('GET', '/Users', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const filter = parseScimFilter(
      query['filter'],
      ['userName', 'externalId'] as const,
      USER_SCHEMA,
    );
    const page = pageOf(query, MAX_PAGE_SIZE);
    const { total, items } = await inTenant(request, (tx) =>
      listScimUsers(tx, { filter, ...page }),
    );
    const resources = items.map((u) => userResourceOf(u, base));
    return send(reply, 200, listResponseOf(resources, total, page.startIndex));
  });
  route('POST', '/Users', async (request, reply) => {
    const attributes = userAttributesOf(request.body);
    const user = await inTenant(request, (tx, actor) =>
      createScimUser(tx, actor, attributes, now()),
    );
    const resource = userResourceOf(user, base);
    return send(reply.header('location', `${base}/Users/${user.id}`), 201, resource);
  });
  route('GET', '/Users/:id', async (request, reply) => {
    const id = idOf(request);
    const user = await inTenant(request, (tx) => findScimUser(tx, id));
    if (!user) throw new ScimError(404, 'Resource not found.');
    return send(reply, 200, userResourceOf(user, base));
  });
  route('PUT', '/Users/:id', async (request, reply) => {
    const id = idOf(request);
    const attributes = userAttributesOf(request.body);
    const user = await inTenant(request, (tx, actor) =>
      replaceScimUser(tx, actor, id, attributes, now()),
    );
    return send(reply, 200, userResourceOf(user, base));
  });
  route('PATCH', '/Users/:id', async (request, reply) => {
    const id = idOf(request);
    const user = await inTenant(request, async (tx, actor) => {
      const current = await findScimUser(tx, id);
      if (!current) throw new ScimError(404, 'Resource not found.');
      const patched = applyPatch(userResourceOf(current, base), request.body);
      return replaceScimUser(tx, actor, id, userAttributesOf(patched), now());
    });
    return send(reply, 200, userResourceOf(user, base));
  });
  route('DELETE', '/Users/:id', async (request, reply) => {
    const id = idOf(request);
    await inTenant(request, async (tx, actor) => {
      const { deleteAction } = await getScimSettings(tx);
      const erase =
        deleteAction === 'erase'
          ? async (inner: TenantTx, userId: string): Promise<string> => {
              const { request: opened } = await createPrivacyRequest(
                inner,
                { type: 'scim_token', id: actor.tokenId, ...actor.origin },
                { userId, type: 'deletion' },
                { keyring: options.keyring, now: now() },
              );
              return opened.id;
            }
          : null;
      return deleteScimUser(tx, actor, id, now(), erase);
    });
    return reply.code(204).send();
  });

  // Groups
  route('GET', '/Groups', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const filter = parseScimFilter(
      query['filter'],
      ['displayName', 'externalId'] as const,
      GROUP_SCHEMA,
    );
    const page = pageOf(query, MAX_PAGE_SIZE);
    const withMembers = !excludesMembers(query);
    const { total, items } = await inTenant(request, (tx) =>
      listScimGroups(tx, { filter, ...page, withMembers }),
    );
    const resources = items.map((g) => groupResourceOf(g, base, withMembers));
    return send(reply, 200, listResponseOf(resources, total, page.startIndex));
  });
  route('POST', '/Groups', async (request, reply) => {
    const attributes = groupAttributesOf(request.body);
    const group = await inTenant(request, (tx, actor) =>
      createScimGroup(tx, actor, attributes, now()),
    );
    return send(
      reply.header('location', `${base}/Groups/${group.id}`),
      201,
      groupResourceOf(group, base),
    );
  });
  route('GET', '/Groups/:id', async (request, reply) => {
    const id = idOf(request);
    const group = await inTenant(request, (tx) => findScimGroup(tx, id));
    if (!group) throw new ScimError(404, 'Resource not found.');
    const withMembers = !excludesMembers(request.query as Record<string, unknown>);
    return send(reply, 200, groupResourceOf(group, base, withMembers));
  });
  route('PUT', '/Groups/:id', async (request, reply) => {
    const id = idOf(request);
    const attributes = groupAttributesOf(request.body);
    const group = await inTenant(request, (tx, actor) =>
      replaceScimGroup(tx, actor, id, attributes, now()),
    );
    return send(reply, 200, groupResourceOf(group, base));
  });
  // RFC 7644 §3.5.2: 204 when the answer would only repeat the request (a large group's members).
  route('PATCH', '/Groups/:id', async (request, reply) => {
    const id = idOf(request);
    await inTenant(request, async (tx, actor) => {
      const current = await findScimGroup(tx, id);
      if (!current) throw new ScimError(404, 'Resource not found.');
      const patched = applyPatch(groupResourceOf(current, base), request.body);
      return replaceScimGroup(tx, actor, id, groupAttributesOf(patched), now());
    });
    return reply.code(204).send();
  });
  route('DELETE', '/Groups/:id', async (request, reply) => {
    const id = idOf(request);
    await inTenant(request, (tx, actor) => deleteScimGroup(tx, actor, id, now()));
    return reply.code(204).send();
  });
}
