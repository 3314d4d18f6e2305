import { baseName, isOutermostConcat, isStringBuilt, stringShape } from '../utils.js';

// `SET app.x`, `SET LOCAL app.x`, `SET SESSION "app".x` ... (not RESET, not set_config).
const SET_APP = /\bSET\s+(?:LOCAL\s+|SESSION\s+)?"?app"?\./i;
const SET_CONFIG_TENANT = /\bset_config\s*\(\s*['"]app\.tenant_id['"]/i;
const TENANT_CONTEXT_FILE = 'tenant-context.ts';

/** A template literal or `+` chain that builds SQL text (a `sql`...`` tag parameterises instead). */
function isStringBuiltText(node) {
  if (node.type === 'TemplateLiteral' && node.parent?.type === 'TaggedTemplateExpression') {
    return false;
  }
  return isStringBuilt(node);
}

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: {
      description:
        "Ban SET/SET LOCAL of app.* settings, set_config('app.tenant_id', ...) outside tenant-context.ts, and string-built set_config anywhere.",
    },
    schema: [],
    messages: {
      setAppSetting:
        "Do not SET or SET LOCAL app.* settings: SET leaks across pooled connections and SET LOCAL needs string-built SQL. Use withTenant() from @tessera/db, which calls set_config('app.tenant_id', $1, true) (docs/design.md rule 2).",
      setConfigOutsideTenantContext:
        "set_config('app.tenant_id', ...) may only appear in packages/db/src/tenant-context.ts. Use withTenant() from @tessera/db (docs/design.md rule 2).",
      stringBuiltSetConfig:
        "set_config('app.tenant_id', ...) takes the tenant id as a bind parameter ($1), not string-built SQL. The one exception embeds only a UUID that tenant-context.ts parsed itself, and carries a disable comment and a test (docs/design.md rule 2).",
    },
  },
  create(context) {
    const inTenantContext = baseName(context) === TENANT_CONTEXT_FILE;

    function check(node) {
      if (!isOutermostConcat(node)) return;
      const text = stringShape(node);
      if (text === null) return;
      if (SET_APP.test(text)) context.report({ node, messageId: 'setAppSetting' });
      if (SET_CONFIG_TENANT.test(text)) {
        if (!inTenantContext) {
          context.report({ node, messageId: 'setConfigOutsideTenantContext' });
        } else if (isStringBuiltText(node)) {
          context.report({ node, messageId: 'stringBuiltSetConfig' });
        }
      }
    }

    return {
      Literal: check,
      TemplateLiteral: check,
      'BinaryExpression[operator="+"]': check,
    };
  },
};
