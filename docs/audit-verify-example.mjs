// Verifies a Tessera audit export (JSON lines on stdin) with node:crypto only; see docs/audit-log.md.
// Usage: node audit-verify-example.mjs [base64 SPKI Ed25519 public key] < audit.jsonl
import { createHash, createPublicKey, verify } from 'node:crypto';
const CHAINED = 'tenantId seq occurredAt actorType actorId action targetType targetId ipDigest userAgentDigest before after metadata riskScore'.split(' ');
const pair = (o) => (k) => `${JSON.stringify(k)}:${canon(o[k])}`; // keys sorted at every depth, no whitespace
const canon = (v) => (Array.isArray(v) ? `[${v.map(canon)}]` : v && typeof v === 'object' ? `{${Object.keys(v).sort().map(pair(v))}}` : JSON.stringify(v));
const sha256 = (...parts) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');
const salted = (e, v) => e.piiSalt && sha256(Buffer.from(e.piiSalt, 'hex'), v); // SHA-256(salt || value)
const clear = (e, v, digest) => v === null || salted(e, v) === digest; // clear personal data matches the chained digest
const pii = (e) => Object.entries(e.pii ?? {}).every(([token, v]) => token === `pii:${salted(e, v)}`);
const key = process.argv[2] && createPublicKey({ key: Buffer.from(process.argv[2], 'base64'), format: 'der', type: 'spki' });
const statement = (e, m) => canon(['tessera.audit.checkpoint.v1', e.tenantId, m.kind, m.seq, m.sha256, m.signedAt]);
const signedBy = (e, m) => verify(null, Buffer.from(statement(e, m)), key, Buffer.from(m.signature, 'base64'));
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
let prev, next, checked = 0, bad = null;
const hashes = new Map();
for (const e of Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))) {
  next ??= e.seq;
  prev ??= e.seq === 1 ? '0'.repeat(64) : e.prevHash; // an archive or afterSeq export starts from its first prevHash
  const hash = sha256(Buffer.from(prev, 'hex'), canon(['tessera.audit.v1', ...CHAINED.map((field) => e[field])]));
  const m = key && e.action === 'audit.checkpoint.signed' ? e.metadata : null; // "the chain had hash m.sha256 at m.seq"
  if (e.seq !== next) bad = next;
  else if (e.prevHash !== prev || hash !== e.hash || !clear(e, e.ip, e.ipDigest) || !clear(e, e.userAgent, e.userAgentDigest) || !pii(e)) bad = e.seq;
  else if (m && !(signedBy(e, m) && (hashes.get(m.seq) ?? m.sha256) === m.sha256)) bad = m.seq;
  if (bad !== null) break;
  hashes.set(e.seq, e.hash), (prev = e.hash), (next = e.seq + 1), (checked += 1);
}
process.stdout.write(`${JSON.stringify(bad === null ? { valid: true, checked } : { valid: false, checked, firstInvalidSeq: bad })}\n`);
process.exitCode = bad === null ? 0 : 1;
