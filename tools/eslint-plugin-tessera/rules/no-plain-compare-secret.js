import { trailingName, unwrap } from '../utils.js';

const EQUALITY = new Set(['===', '!==', '==', '!=']);
const SECRET_SUFFIX = /(?:Hash|Mac)$/;

function isSecretOperand(node) {
  const target = unwrap(node);
  if (target?.type !== 'Identifier' && target?.type !== 'MemberExpression') return false;
  const name = trailingName(target);
  return name !== null && SECRET_SUFFIX.test(name);
}

/** Presence checks (`x.keyHash === null`) do not compare secret bytes. */
function isNullish(node) {
  const target = unwrap(node);
  return (
    (target?.type === 'Literal' && target.value === null && !('regex' in target)) ||
    (target?.type === 'Identifier' && target.name === 'undefined') ||
    (target?.type === 'UnaryExpression' && target.operator === 'void')
  );
}

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: {
      description: 'Ban ===/!== on *Hash / *Mac values; compare them with crypto.timingSafeEqual.',
    },
    schema: [],
    messages: {
      plainCompare:
        'Comparing a *Hash or *Mac value with ===/!== leaks timing. Use crypto.timingSafeEqual() on equal-length Buffers.',
    },
  },
  create(context) {
    return {
      BinaryExpression(node) {
        if (!EQUALITY.has(node.operator)) return;
        if (isNullish(node.left) || isNullish(node.right)) return;
        if (isSecretOperand(node.left) || isSecretOperand(node.right)) {
          context.report({ node, messageId: 'plainCompare' });
        }
      },
    };
  },
};
