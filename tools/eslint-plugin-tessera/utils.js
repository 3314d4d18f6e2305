// Shared AST helpers for the tessera ESLint rules. Plain ESM, no build step.

/** Strip TypeScript-only wrappers and optional chains: `x!`, `x as T`, `x satisfies T`, `a?.b`. */
export function unwrap(node) {
  let current = node;
  while (
    current &&
    (current.type === 'TSNonNullExpression' ||
      current.type === 'TSAsExpression' ||
      current.type === 'TSSatisfiesExpression' ||
      current.type === 'TSTypeAssertion' ||
      current.type === 'ChainExpression')
  ) {
    current = current.expression;
  }
  return current;
}

/** The static name of a member's property (`a.b`, `a['b']`), or null. */
export function propertyName(member) {
  if (!member || member.type !== 'MemberExpression') return null;
  const property = member.property;
  if (!member.computed && property.type === 'Identifier') return property.name;
  if (member.computed) return staticString(property);
  return null;
}

/** The trailing name of an identifier or member expression (`x` -> x, `row.keyHash` -> keyHash). */
export function trailingName(node) {
  const target = unwrap(node);
  if (!target) return null;
  if (target.type === 'Identifier') return target.name;
  if (target.type === 'MemberExpression') return propertyName(target);
  return null;
}

/** The name a call is made through: `createHash(...)` and `crypto.createHash(...)` both give createHash. */
export function calleeName(call) {
  return trailingName(call.callee);
}

/** The value of a string literal or an expression-free template literal, else null. */
export function staticString(node) {
  const target = unwrap(node);
  if (!target) return null;
  if (target.type === 'Literal' && typeof target.value === 'string') return target.value;
  if (target.type === 'TemplateLiteral' && target.expressions.length === 0) {
    return target.quasis[0]?.value.cooked ?? null;
  }
  return null;
}

/**
 * Like staticString, but also follows an identifier to a `const NAME = 'literal'` in scope,
 * so `const ALG = 'md5'; createHash(ALG)` is still seen.
 */
export function resolveStaticString(context, node) {
  const direct = staticString(node);
  if (direct !== null) return direct;
  const target = unwrap(node);
  if (!target || target.type !== 'Identifier') return null;
  let scope = context.sourceCode.getScope(target);
  while (scope) {
    const variable = scope.set.get(target.name);
    if (variable) {
      if (variable.defs.length !== 1) return null;
      const def = variable.defs[0];
      if (
        def.type === 'Variable' &&
        def.parent?.kind === 'const' &&
        def.node.type === 'VariableDeclarator' &&
        def.node.id.type === 'Identifier'
      ) {
        return staticString(def.node.init);
      }
      return null;
    }
    scope = scope.upper;
  }
  return null;
}

function isPlus(node) {
  return node?.type === 'BinaryExpression' && node.operator === '+';
}

function collectConcatParts(node, parts) {
  const target = unwrap(node);
  if (isPlus(target)) {
    collectConcatParts(target.left, parts);
    collectConcatParts(target.right, parts);
  } else {
    parts.push(target);
  }
}

/**
 * Text of a string-ish expression with `${}` standing in for every dynamic part:
 * string literals, template literals and `+` chains. Null for anything else.
 */
export function stringShape(node) {
  const target = unwrap(node);
  if (!target) return null;
  if (target.type === 'Literal') return typeof target.value === 'string' ? target.value : null;
  if (target.type === 'TemplateLiteral') {
    return target.quasis.map((quasi) => quasi.value.cooked ?? quasi.value.raw).join('${}');
  }
  if (isPlus(target)) {
    const parts = [];
    collectConcatParts(target, parts);
    if (!parts.some((part) => staticString(part) !== null || part.type === 'TemplateLiteral')) {
      return null;
    }
    return parts
      .map((part) => (part.type === 'TemplateLiteral' ? stringShape(part) : staticString(part)))
      .map((text) => text ?? '${}')
      .join('');
  }
  return null;
}

/** True for a template literal with `${...}` or a `+` chain that is not made only of literals. */
export function isStringBuilt(node) {
  const target = unwrap(node);
  if (!target) return false;
  if (target.type === 'TemplateLiteral') return target.expressions.length > 0;
  if (isPlus(target)) {
    const parts = [];
    collectConcatParts(target, parts);
    return parts.some((part) => staticString(part) === null);
  }
  return false;
}

/** True when `node` is the outermost node of a `+` chain (or not part of one). */
export function isOutermostConcat(node) {
  let child = node;
  let parent = node.parent;
  while (
    parent &&
    (parent.type === 'TSNonNullExpression' ||
      parent.type === 'TSAsExpression' ||
      parent.type === 'TSSatisfiesExpression' ||
      parent.type === 'ChainExpression')
  ) {
    child = parent;
    parent = parent.parent;
  }
  return !(isPlus(parent) && (parent.left === child || parent.right === child));
}

/** The file being linted, with forward slashes. */
export function filePath(context) {
  return (context.filename ?? context.getFilename()).replaceAll('\\', '/');
}

export function baseName(context) {
  const path = filePath(context);
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Depth-first search of `root` (inclusive) for a node matching `predicate`. */
export function findNode(context, root, predicate) {
  const keys = context.sourceCode.visitorKeys;
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!node || typeof node.type !== 'string') continue;
    if (predicate(node)) return node;
    for (const key of keys[node.type] ?? []) {
      const value = node[key];
      if (Array.isArray(value)) stack.push(...value);
      else if (value) stack.push(value);
    }
  }
  return null;
}
