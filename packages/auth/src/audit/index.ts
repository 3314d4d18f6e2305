export { recordAuditEvent, lockChainHead } from './record-audit-event.js';
export type { AuditActor, AuditEventInput, RecordedAuditEvent } from './record-audit-event.js';
export { verifyAuditChain, personalDataMatches } from './verify-audit-chain.js';
export type { AuditChainVerification, VerifyAuditChainOptions } from './verify-audit-chain.js';
export { listAuditEvents, MAX_AUDIT_PAGE, readAuditEvents } from './list-audit-events.js';
export type {
  AuditEventView,
  AuditPage,
  NamedAuditPage,
  AuditReader,
  ListAuditEventsFilter,
} from './list-audit-events.js';
export { auditExportChunks, jsonLine, AUDIT_EXPORT_CONTENT_TYPES } from './export-audit-log.js';
export type { AuditExportFormat, AuditExportOptions } from './export-audit-log.js';
export { readChainRows, chainFieldsOf, CHAIN_ROW_KEYS } from './audit-rows.js';
export type { ChainFilter, ChainRange, ChainRow } from './audit-rows.js';
export {
  auditKeyId,
  auditPublicKeyOf,
  checkpointMessage,
  checkpointSignatureValid,
  loadCheckpoints,
  parseAuditSigningKey,
  signAuditCheckpoint,
  signDueAuditCheckpoints,
  auditUnanchoredAgeSeconds,
} from './checkpoints.js';
export type {
  AuditCheckpoint,
  AuditCheckpointKind,
  AuditPublicKey,
  AuditSigningKey,
} from './checkpoints.js';
export { redactAuditPersonalData } from './redact-audit-personal-data.js';
export type { RedactAuditOptions } from './redact-audit-personal-data.js';
export {
  AuditChainBrokenError,
  findAuditRetention,
  MAX_RETENTION_DAYS,
  MIN_RETENTION_DAYS,
  pruneAuditLog,
  runAuditRetention,
  setAuditRetention,
} from './retention.js';
export type { AuditRetentionDatabases, PruneAuditOptions } from './retention.js';
export {
  AUDIT_ACTION_RISK,
  defaultRiskScore,
  isUnusualHourShare,
  isUnusualSignInHour,
  SIGN_IN_RISK_WEIGHTS,
  signInHourSample,
  signInRiskScore,
} from './risk-score.js';
export type { SignInRiskInput } from './risk-score.js';
export {
  canonicalEvent,
  canonicalJson,
  chainHash,
  GENESIS_HASH,
  personalDigest,
  piiToken,
} from './canonical.js';
export type { ChainFields, JsonValue } from './canonical.js';
export { auditPartyNames, targetIdsMatching } from './audit-names.js';
export type { AuditPartyKind, AuditPartyName, NameVisibility } from './audit-names.js';
export { auditActionsInUse, MAX_AUDIT_ACTIONS } from './audit-actions.js';
export { explainRiskScore } from './risk-explanation.js';
export type { RiskExplanation, RiskSignal } from './risk-explanation.js';
