import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '.bench-dist/**',
      '.sample-dist/**',
      'node_modules/**',
      'compat/node_modules/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // Imports run one way: context ← session ← flags ← auth ← module (DESIGN.md, Layout).
  ...[
    ['lib/context/**', ['../session/*', '../flags/*', '../auth/*', '../store/*', '../authkit.*']],
    ['lib/store/**', ['../context/*', '../session/*', '../flags/*', '../auth/*']],
    ['lib/session/**', ['../flags/*', '../auth/*']],
    ['lib/flags/**', ['../auth/*']],
  ].map(([files, forbidden]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...forbidden, '../testing/*', '../redis/*'],
              message: 'imports run one way: context ← session ← flags ← auth ← module',
            },
          ],
        },
      ],
    },
  })),
);
