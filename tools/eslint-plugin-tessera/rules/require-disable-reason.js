const DIRECTIVE = /^\s*eslint-disable(?:-next-line|-line)?\s+([^\n]*)$/s;

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'suggestion',
    docs: {
      description:
        'Every eslint-disable comment that turns off a tessera/* rule must say why, after `--`.',
    },
    schema: [],
    messages: {
      missingReason:
        'Disabling a tessera/* rule needs a reason: `// eslint-disable-next-line tessera/<rule> -- <why this is safe>`.',
    },
  },
  create(context) {
    return {
      Program() {
        for (const comment of context.sourceCode.getAllComments()) {
          const match = DIRECTIVE.exec(comment.value);
          if (!match) continue;
          const [rules, reason] = match[1].split(/\s--\s?/, 2);
          if (!rules.includes('tessera/')) continue;
          if (!reason || reason.trim() === '') {
            context.report({ loc: comment.loc, messageId: 'missingReason' });
          }
        }
      },
    };
  },
};
