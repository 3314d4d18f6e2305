import { propertyName, unwrap } from '../utils.js';

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: {
      description:
        'Ban Math.random (not a CSPRNG) in security code; scope it with `files` in eslint.config.js.',
    },
    schema: [],
    messages: {
      mathRandom:
        'Math.random() is not a cryptographically secure generator. Use randomBytes(), randomInt() or randomUUID() from node:crypto.',
    },
  },
  create(context) {
    function isMath(node) {
      const target = unwrap(node);
      return target?.type === 'Identifier' && target.name === 'Math';
    }
    return {
      MemberExpression(node) {
        if (isMath(node.object) && propertyName(node) === 'random') {
          context.report({ node, messageId: 'mathRandom' });
        }
      },
      // const { random } = Math
      VariableDeclarator(node) {
        if (node.id.type !== 'ObjectPattern' || !isMath(node.init)) return;
        for (const property of node.id.properties) {
          if (
            property.type === 'Property' &&
            ((!property.computed &&
              property.key.type === 'Identifier' &&
              property.key.name === 'random') ||
              (property.key.type === 'Literal' && property.key.value === 'random'))
          ) {
            context.report({ node: property, messageId: 'mathRandom' });
          }
        }
      },
    };
  },
};
