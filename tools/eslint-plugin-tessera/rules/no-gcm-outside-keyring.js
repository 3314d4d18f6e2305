import { baseName, calleeName, resolveStaticString } from '../utils.js';

const CIPHER_FACTORIES = new Set(['createCipheriv', 'createDecipheriv']);
const GCM = /^(?:id-)?aes-?\d+-gcm$/i;
const KEYRING_FILE = 'keyring.ts';

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: {
      description:
        "Keep createCipheriv/createDecipheriv('aes-256-gcm', ...) inside crypto/keyring.ts.",
    },
    schema: [],
    messages: {
      gcmOutsideKeyring:
        'AES-256-GCM belongs to the versioned keyring (packages/auth/src/crypto/keyring.ts). Call the keyring instead of createCipheriv/createDecipheriv.',
    },
  },
  create(context) {
    if (baseName(context) === KEYRING_FILE) return {};
    return {
      CallExpression(node) {
        const name = calleeName(node);
        if (!name || !CIPHER_FACTORIES.has(name)) return;
        const algorithm = resolveStaticString(context, node.arguments[0]);
        if (algorithm !== null && GCM.test(algorithm)) {
          context.report({ node, messageId: 'gcmOutsideKeyring' });
        }
      },
    };
  },
};
