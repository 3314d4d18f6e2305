import { filePath, trailingName } from '../utils.js';

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: {
      description: 'Ban `new TRPCError(...)` in files under a routers/ directory.',
    },
    schema: [],
    messages: {
      trpcErrorInRouter:
        'Do not construct TRPCError in routers/: throw an AuthError and let middleware/map-errors.ts (via errors.ts) choose the tRPC code and the public message.',
    },
  },
  create(context) {
    if (!`/${filePath(context)}`.includes('/routers/')) return {};
    return {
      NewExpression(node) {
        if (trailingName(node.callee) === 'TRPCError') {
          context.report({ node, messageId: 'trpcErrorInRouter' });
        }
      },
    };
  },
};
