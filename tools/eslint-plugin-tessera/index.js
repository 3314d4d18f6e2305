// eslint-plugin-tessera: the repo's Semgrep list (.semgrep.yml), enforced in CI through ESLint.
// Plain ESM, no build step; loaded by the root eslint.config.js as `tessera/<rule>`.
import noGcmOutsideKeyring from './rules/no-gcm-outside-keyring.js';
import noLogRequestBody from './rules/no-log-request-body.js';
import noMathRandom from './rules/no-math-random.js';
import noPlainCompareSecret from './rules/no-plain-compare-secret.js';
import noRawSqlInterpolation from './rules/no-raw-sql-interpolation.js';
import noSetAppSetting from './rules/no-set-app-setting.js';
import noTrpcErrorInRouters from './rules/no-trpc-error-in-routers.js';
import noWeakHash from './rules/no-weak-hash.js';
import requireDisableReason from './rules/require-disable-reason.js';

/** Rules that mirror a rule in .semgrep.yml (same id, same message). */
export const semgrepRules = {
  'no-raw-sql-interpolation': noRawSqlInterpolation,
  'no-set-app-setting': noSetAppSetting,
  'no-math-random': noMathRandom,
  'no-weak-hash': noWeakHash,
  'no-plain-compare-secret': noPlainCompareSecret,
  'no-gcm-outside-keyring': noGcmOutsideKeyring,
  'no-trpc-error-in-routers': noTrpcErrorInRouters,
  'no-log-request-body': noLogRequestBody,
};

/** @type {import('eslint').ESLint.Plugin} */
const plugin = {
  meta: { name: 'eslint-plugin-tessera', version: '0.0.0' },
  rules: {
    ...semgrepRules,
    'require-disable-reason': requireDisableReason,
  },
};

export default plugin;
