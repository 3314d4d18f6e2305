import { calleeName, resolveStaticString } from '../utils.js';

const HASH_FACTORIES = new Set(['createHash', 'createHmac', 'digest']);
const WEAK_ALGORITHM = /^(?:rsa-)?(?:md4|md5|sha-?1)$/i;

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: {
      description: "Ban createHash/createHmac('md5' | 'sha1') and subtle.digest('SHA-1').",
    },
    schema: [],
    messages: {
      weakHash:
        'MD5 and SHA-1 must not protect anything secret: use SHA-256 or stronger. The only allowed exceptions (HIBP range query, RFC 6238 TOTP) carry an eslint-disable comment with a reason.',
    },
  },
  create(context) {
    return {
      CallExpression(node) {
        const name = calleeName(node);
        if (!name || !HASH_FACTORIES.has(name)) return;
        // `hash.digest('hex')` is the common case for `digest`; only algorithm names match below.
        if (name === 'digest' && node.callee.type !== 'MemberExpression') return;
        const algorithm = resolveStaticString(context, node.arguments[0]);
        if (algorithm !== null && WEAK_ALGORITHM.test(algorithm)) {
          context.report({ node, messageId: 'weakHash' });
        }
      },
    };
  },
};
