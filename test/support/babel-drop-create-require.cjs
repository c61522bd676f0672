// ESM packages often declare `const require = createRequire(import.meta.url)`. Once babel has
// turned them into CommonJS that declaration shadows the real `require` (and breaks babel's
// own import rewriting), so it is removed: CommonJS already has `require`.
module.exports = function dropCreateRequire() {
  return {
    visitor: {
      Program: {
        enter(program) {
          program.traverse({
            VariableDeclarator(path) {
              const { id, init } = path.node;
              const isCreateRequire =
                init &&
                init.type === 'CallExpression' &&
                init.callee.type === 'Identifier' &&
                init.callee.name === 'createRequire';
              if (id.type === 'Identifier' && id.name === 'require' && isCreateRequire) path.remove();
            },
          });
        },
      },
    },
  };
};
