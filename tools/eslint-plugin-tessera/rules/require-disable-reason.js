// Matches `eslint-disable`, `eslint-disable-line` and `eslint-disable-next-line` directives
// (not `eslint-enable`), with or without a rule list. Limitation: a directive that disables every
// rule on its own line (`/* eslint-disable */`, `// eslint-disable-line`) also silences this report.
const DIRECTIVE = /^\s*eslint-disable(?:-next-line|-line)?(?:\s+(.*))?$/s;

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'suggestion',
    docs: {
      description:
        'Every eslint-disable comment names its rules and says why after `--` (the Semgrep-list exceptions must be justified in place).',
    },
    schema: [],
    messages: {
      missingReason:
        'An eslint-disable comment needs a reason: `// eslint-disable-next-line <rule> -- <why this is safe>`.',
    },
  },
  create(context) {
    return {
      Program() {
        for (const comment of context.sourceCode.getAllComments()) {
          const match = DIRECTIVE.exec(comment.value);
          if (!match) continue;
          const [, reason] = (match[1] ?? '').split(/(?:^|\s)--(?:\s|$)/, 2);
          if (reason === undefined || reason.trim() === '') {
            context.report({ loc: comment.loc, messageId: 'missingReason' });
          }
        }
      },
    };
  },
};
