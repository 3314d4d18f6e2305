import { baseName, isOutermostConcat, stringShape } from '../utils.js';

// `SET app.x`, `SET LOCAL app.x`, `SET SESSION "app".x` ... (not RESET, not set_config).
const SET_APP = /\bSET\s+(?:LOCAL\s+|SESSION\s+)?"?app"?\./i;
const SET_CONFIG_TENANT = /\bset_config\s*\(\s*['"]app\.tenant_id['"]/i;
const TENANT_CONTEXT_FILE = 'tenant-context.ts';

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: {
      description:
        "Ban SET/SET LOCAL of app.* settings, and set_config('app.tenant_id', ...) outside tenant-context.ts.",
    },
    schema: [],
    messages: {
      setAppSetting:
        "Do not SET or SET LOCAL app.* settings: SET leaks across pooled connections and SET LOCAL needs string-built SQL. Use withTenant() from @tessera/db, which calls set_config('app.tenant_id', $1, true) (DESIGN rule 2).",
      setConfigOutsideTenantContext:
        "set_config('app.tenant_id', ...) may only appear in packages/db/src/tenant-context.ts. Use withTenant() from @tessera/db (DESIGN rule 2).",
    },
  },
  create(context) {
    const allowSetConfig = baseName(context) === TENANT_CONTEXT_FILE;

    function check(node) {
      if (!isOutermostConcat(node)) return;
      const text = stringShape(node);
      if (text === null) return;
      if (SET_APP.test(text)) context.report({ node, messageId: 'setAppSetting' });
      if (!allowSetConfig && SET_CONFIG_TENANT.test(text)) {
        context.report({ node, messageId: 'setConfigOutsideTenantContext' });
      }
    }

    return {
      Literal: check,
      TemplateLiteral: check,
      'BinaryExpression[operator="+"]': check,
    };
  },
};
