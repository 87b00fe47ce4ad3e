// Lint = module boundaries first: scope × type tags (see STYLE.md) enforced by Nx, plus the
// TypeScript rules that catch real bugs. Tags live in each project's package.json ("nx.tags").
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const scopes = ['broker', 'gateway', 'archive', 'read-state', 'pubsub', 'push'];

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/generated/**', '.hearth/**', '.nx/**', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@nx': nx, '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'off',
      '@nx/enforce-module-boundaries': ['error', {
        enforceBuildableLibDependency: false,
        allow: [],
        depConstraints: [
          ...scopes.map((scope) => ({
            sourceTag: `scope:${scope}`,
            onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:shared'],
          })),
          { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:contracts', 'type:util', 'type:testing'] },
          { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:contracts', 'type:util', 'type:testing'] },
          { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
          { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
          { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:contracts', 'type:util', 'type:testing'] },
          { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
          { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:data-access', 'type:contracts', 'type:util'] },
        ],
      }],
    },
  },
];
