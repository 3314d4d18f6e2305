import { findNode, propertyName, trailingName, unwrap } from '../utils.js';

const LOG_METHODS = new Set(['log', 'info', 'warn', 'error', 'debug', 'trace', 'fatal']);
const LOGGER_NAMES = new Set(['log', 'logger']);
const REQUEST_NAMES = new Set(['request', 'req']);

/** `log`, `logger`, `request.log`, `app.log`, `this.logger` ... */
function isLogger(node) {
  const target = unwrap(node);
  if (target?.type === 'Identifier') return LOGGER_NAMES.has(target.name);
  if (target?.type === 'MemberExpression') return LOGGER_NAMES.has(propertyName(target) ?? '');
  return false;
}

/** `request.body`, `req.body`, `ctx.req.body`, `request['body']`. */
function isRequestBody(node) {
  return (
    node.type === 'MemberExpression' &&
    propertyName(node) === 'body' &&
    REQUEST_NAMES.has(trailingName(node.object) ?? '')
  );
}

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: {
      description: 'Ban passing request bodies (request.body / req.body) to a logger.',
    },
    schema: [],
    messages: {
      logRequestBody:
        'Do not log request bodies: they carry passwords, codes and tokens. Log selected non-secret fields instead (docs/design.md rule 4).',
    },
  },
  create(context) {
    return {
      CallExpression(node) {
        const callee = unwrap(node.callee);
        if (callee?.type !== 'MemberExpression') return;
        if (!LOG_METHODS.has(propertyName(callee) ?? '') || !isLogger(callee.object)) return;
        for (const argument of node.arguments) {
          const body = findNode(context, argument, isRequestBody);
          if (body) {
            context.report({ node: body, messageId: 'logRequestBody' });
            return;
          }
        }
      },
    };
  },
};
