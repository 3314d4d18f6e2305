import { calleeName, isStringBuilt, propertyName, trailingName, unwrap } from '../utils.js';

// Methods that take SQL text as their first argument: node-postgres `query`, postgres.js `unsafe`,
// drizzle `execute` (which also accepts a plain string).
const SQL_TEXT_METHODS = new Set(['query', 'unsafe', 'execute']);

/** `sql.raw(...)` or `x.sql.raw(...)`. */
function isSqlRaw(callee) {
  const target = unwrap(callee);
  return (
    target?.type === 'MemberExpression' &&
    propertyName(target) === 'raw' &&
    trailingName(target.object) === 'sql'
  );
}

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: {
      description:
        'Ban string-built SQL: interpolation or concatenation inside sql.raw(), .query(), .unsafe() or .execute().',
    },
    schema: [],
    messages: {
      stringBuiltSql:
        'String-built SQL: do not interpolate or concatenate values into sql.raw(), .query(), .unsafe() or .execute() text. Use a parameterised sql`...` tagged template or $n placeholders (docs/design.md rule 2).',
    },
  },
  create(context) {
    return {
      CallExpression(node) {
        const first = node.arguments[0];
        if (!first || !isStringBuilt(first)) return;
        const callee = unwrap(node.callee);
        if (callee?.type !== 'MemberExpression') return;
        if (isSqlRaw(callee) || SQL_TEXT_METHODS.has(calleeName(node) ?? '')) {
          context.report({ node: first, messageId: 'stringBuiltSql' });
        }
      },
    };
  },
};
