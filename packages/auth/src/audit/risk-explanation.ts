/**
 * Why an audit event carries its risk score, in words a reviewer can check by hand
 * (docs/audit-log.md "Risk score"). Fixed-score actions name their table entry or the default
 * rule. Sign-in events are scored from signals that the event does not store, so the explanation
 * lists every combination of the documented signals that adds up to the score, narrowed by what
 * the event's metadata does say (the failure count, a lock).
 */
import type { JsonValue } from './canonical.js';
import { AUDIT_ACTION_RISK, SIGN_IN_RISK_WEIGHTS } from './risk-score.js';

export interface RiskSignal {
  label: string;
  points: number;
}

export type RiskExplanation =
  | { basis: 'fixed'; score: number; summary: string }
  | { basis: 'default'; score: number; summary: string }
  | { basis: 'signals'; score: number; summary: string; combinations: RiskSignal[][] };

const SIGN_IN_ACTIONS = new Set([
  'auth.sign_in.succeeded',
  'auth.sign_in.failed',
  'auth.sign_in.refused',
]);
const MAX_COMBINATIONS = 6;

function metadataNumber(metadata: JsonValue, key: string): number | null {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return null;
  const value = metadata[key];
  return typeof value === 'number' ? value : null;
}

function metadataText(metadata: JsonValue, key: string): string | null {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return null;
  const value = metadata[key];
  return typeof value === 'string' ? value : null;
}

/** Every signal set of the sign-in model (risk-score.ts) whose weights add up to `score`. */
function signalCombinations(score: number, failures: number | null, locked: boolean | null) {
  const w = SIGN_IN_RISK_WEIGHTS;
  const out: RiskSignal[][] = [];
  for (let mask = 0; mask < 16; mask += 1)
    for (let f = 0; f <= w.maxRecentFailures; f += 1) {
      const isLocked = (mask & 4) !== 0;
      if (failures !== null && f !== Math.min(failures, w.maxRecentFailures)) continue;
      if (locked !== null && isLocked !== locked) continue;
      const signals: RiskSignal[] = [];
      if (mask & 1) signals.push({ label: 'new IP address for this user', points: w.newIp });
      if (mask & 2) signals.push({ label: 'new browser (user agent)', points: w.newUserAgent });
      if (f > 0)
        signals.push({
          label: `${f} recent failed attempt${f > 1 ? 's' : ''}`,
          points: f * w.perRecentFailure,
        });
      if (isLocked) signals.push({ label: 'account locked', points: w.locked });
      if (mask & 8)
        signals.push({ label: 'unusual hour for this organisation', points: w.unusualHour });
      const total = Math.min(
        100,
        signals.reduce((n, s) => n + s.points, 0),
      );
      if (total === score) out.push(signals);
    }
  return out.sort((a, b) => a.length - b.length).slice(0, MAX_COMBINATIONS);
}

export function explainRiskScore(
  action: string,
  score: number,
  metadata: JsonValue,
): RiskExplanation {
  if (SIGN_IN_ACTIONS.has(action)) {
    const failures = metadataNumber(metadata, 'failures');
    const reason = metadataText(metadata, 'reason');
    const locked = reason === 'locked' ? true : action === 'auth.sign_in.succeeded' ? false : null;
    const combinations = signalCombinations(score, failures, locked);
    return {
      basis: 'signals',
      score,
      summary:
        score === 0
          ? 'Sign-in from a known address and browser, at a usual hour, with no recent failures.'
          : `Sign-in risk is the sum of its signals (capped at 100); ${combinations.length === 0 ? 'no combination of the documented signals gives this score' : 'these signals add up to it'}.`,
      combinations,
    };
  }
  const fixed = AUDIT_ACTION_RISK[action];
  if (fixed !== undefined)
    return { basis: 'fixed', score, summary: `Fixed score for ${action}: ${fixed}.` };
  return {
    basis: 'default',
    score,
    summary: /\.(?:failed|refused|denied|rejected)$/.test(action)
      ? 'Default for refusals and failures without a fixed score: 40.'
      : 'Default for actions without a fixed score: 10.',
  };
}
