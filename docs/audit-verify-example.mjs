// Verifies a Tessera audit export (JSON lines on stdin) with node:crypto only; see docs/audit-log.md.
// Usage: node audit-verify-example.mjs [base64 SPKI Ed25519 public key] < audit.jsonl
import { createHash, createPublicKey, verify } from 'node:crypto';
const canon = (v) => Array.isArray(v) ? `[${v.map(canon).join(',')}]`
  : v !== null && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`
  : JSON.stringify(v);
const sha256 = (...parts) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');
const digest = (salt, value) => sha256(Buffer.from(salt ?? '', 'hex'), value);
const key = process.argv[2] && createPublicKey({ key: Buffer.from(process.argv[2], 'base64'), format: 'der', type: 'spki' });
let text = '';
for await (const chunk of process.stdin) text += chunk;
let prev = null, next = null, checked = 0, bad = null;
const hashes = new Map();
for (const e of text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line))) {
  next ??= e.seq;
  prev ??= e.seq === 1 ? '0'.repeat(64) : e.prevHash; // a pruned log starts at its prune checkpoint
  const canonical = canon(['tessera.audit.v1', e.tenantId, e.seq, e.occurredAt, e.actorType, e.actorId, e.action, e.targetType,
    e.targetId, e.ipDigest, e.userAgentDigest, e.before, e.after, e.metadata, e.riskScore]);
  const personal = [[e.ip, e.ipDigest], [e.userAgent, e.userAgentDigest]].every(([v, d]) => v === null || (e.piiSalt && digest(e.piiSalt, v) === d))
    && Object.entries(e.pii ?? {}).every(([token, v]) => e.piiSalt && token === `pii:${digest(e.piiSalt, v)}`);
  const m = e.action === 'audit.checkpoint.signed' && key ? e.metadata : null; // signed statement: chain had hash m.sha256 at m.seq
  const signed = !m || (verify(null, Buffer.from(canon(['tessera.audit.checkpoint.v1', e.tenantId, m.kind, m.seq, m.sha256, m.signedAt])), key,
    Buffer.from(m.signature, 'base64')) && (!hashes.has(m.seq) || hashes.get(m.seq) === m.sha256));
  if (e.seq !== next) { bad = next; break; }
  if (e.prevHash !== prev || sha256(Buffer.from(prev, 'hex'), canonical) !== e.hash || !personal || !signed) { bad = signed ? e.seq : Math.min(e.seq, m.seq); break; }
  hashes.set(e.seq, e.hash); prev = e.hash; next = e.seq + 1; checked += 1;
}
process.stdout.write(`${JSON.stringify(bad === null ? { valid: true, checked } : { valid: false, checked, firstInvalidSeq: bad })}\n`);
process.exitCode = bad === null ? 0 : 1;
