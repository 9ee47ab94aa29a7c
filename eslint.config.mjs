import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Scripts (*.mjs) run on Node: every global this Node defines (process, Buffer, URL, structuredClone,
// fetch, timers...) is known to them, without a hand-kept list or another dependency.
const nodeGlobals = Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']));

export default tseslint.config(
  { ignores: ['build/', 'dist/', 'node_modules/', 'tasks/*/index.js', 'test/fixtures/', '.demo/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['azure-pipelines-task-lib', 'azure-pipelines-task-lib/*'] }],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
