/**
 * Procedures of the DESIGN contract whose routers are not merged yet (API keys, privacy,
 * compliance, audit). Their pages call them by their contract names through the untyped client
 * and show "not available yet" while the server answers "No procedure found".
 *
 * Types: once a namespace is in `AppRouter`, `Out`/`In` resolve to the contract's own inferred
 * types and the shapes below stop mattering (a page that relies on a field the real router
 * lacks then fails to compile, which is the point). Until then they are DESIGN's table, nothing
 * more; delete each entry when its router lands.
 */
import type { RouterInputs, RouterOutputs } from '@tessera/api-contract';
import { untypedApi } from './trpc';

type Role = 'owner' | 'admin' | 'compliance' | 'member';
export type RequestType = 'export' | 'deletion';
export type RequestStatus =
  'pending' | 'processing' | 'completed' | 'failed' | 'rejected' | 'blocked';
export type ExportFormat = 'json' | 'csv' | 'pdf';

export interface ApiKeyItem {
  id: string;
  name: string;
  type: 'publishable' | 'secret';
  environment: 'live' | 'test';
  prefix: string;
  scopes: string[];
  allowedCidrs: string[];
  rateLimit: { max: number; windowSeconds: number } | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface PrivacyRequest {
  id: string;
  type: RequestType;
  status: RequestStatus;
  format: ExportFormat | null;
  requestedAt: string;
  dueAt: string;
  completedAt: string | null;
  expiresAt: string | null;
}

export interface QueueItem extends PrivacyRequest {
  userId: string;
  extendedMonths: number;
  rejectionReason: string | null;
  exportAvailable: boolean;
}

export interface AuditItem {
  seq: number;
  occurredAt: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string | null; id: string | null } | null;
  ip: string | null;
}

interface Pending {
  'apiKeys.list': { input: undefined; output: ApiKeyItem[] };
  'apiKeys.create': {
    input: {
      name: string;
      type: 'publishable' | 'secret';
      environment: 'live' | 'test';
      scopes: string[];
      allowedCidrs?: string[];
      rateLimit?: { max: number; windowSeconds: number };
      expiresAt?: string;
    };
    output: { key: string; apiKey: ApiKeyItem };
  };
  'apiKeys.rotate': {
    input: { id: string; graceSeconds: number };
    output: { key: string; apiKey: ApiKeyItem };
  };
  'apiKeys.revoke': { input: { id: string }; output: unknown };
  'audit.list': {
    input:
      | {
          limit?: number;
          cursor?: number;
          action?: string;
          actorId?: string;
          since?: string;
          until?: string;
        }
      | undefined;
    output: { items: AuditItem[]; nextCursor: number | null };
  };
  'audit.verify': {
    input: undefined;
    output: { valid: boolean; checked: number; firstInvalidSeq?: number };
  };
  'privacy.requestExport': { input: { format: ExportFormat }; output: { request: PrivacyRequest } };
  'privacy.requestDeletion': { input: undefined; output: { request: PrivacyRequest } };
  'privacy.myRequests': { input: undefined; output: PrivacyRequest[] };
  'privacy.exportDownload': {
    input: { requestId: string };
    output: { url: string; expiresAt: string };
  };
  'compliance.listRequests': {
    input: { status?: RequestStatus; type?: RequestType; cursor?: string } | undefined;
    output: { items: QueueItem[]; nextCursor: string | null };
  };
  'compliance.createRequest': {
    input: { userId: string; type: RequestType; format?: ExportFormat };
    output: unknown;
  };
  'compliance.placeLegalHold': {
    input: { userId: string; reason: string };
    output: { holdId: string };
  };
  'compliance.releaseLegalHold': { input: { holdId: string }; output: unknown };
  'compliance.rejectRequest': { input: { id: string; reason: string }; output: unknown };
  'compliance.extendDeadline': {
    input: { id: string; months: number; reason: string };
    output: unknown;
  };
}

export type PendingPath = keyof Pending;
export type { Role };

type Split<P> = P extends `${infer N}.${infer F}` ? [N, F] : never;
type FromRouter<Table, P> =
  Split<P> extends [infer N, infer F]
    ? N extends keyof Table
      ? F extends keyof Table[N]
        ? { value: Table[N][F] }
        : never
      : never
    : never;

/** The contract's type when the router is merged, else DESIGN's shape from `Pending`. */
export type Out<P extends PendingPath> = [FromRouter<RouterOutputs, P>] extends [never]
  ? Pending[P]['output']
  : FromRouter<RouterOutputs, P>['value'];
export type In<P extends PendingPath> = [FromRouter<RouterInputs, P>] extends [never]
  ? Pending[P]['input']
  : FromRouter<RouterInputs, P>['value'];

export async function pendingQuery<P extends PendingPath>(path: P, input?: In<P>): Promise<Out<P>> {
  const result: unknown = await untypedApi.query(path, input);
  return result;
}

export async function pendingMutation<P extends PendingPath>(
  path: P,
  input?: In<P>,
): Promise<Out<P>> {
  const result: unknown = await untypedApi.mutation(path, input);
  return result;
}
