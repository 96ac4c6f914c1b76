// ESLint flat config: typescript-eslint's type-checked recommended rules, the layer
// boundaries of STYLE.md (as import restrictions), and eslint-config-prettier last so
// formatting is Prettier's alone. `npm run lint` runs it with --max-warnings 0.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Boundaries are checked on the import specifier as written (no module resolution), so
 * they work on files being moved and on in-memory sources. Relative imports are matched by
 * file and folder *names*, which a re-layout keeps; `caseSensitive` because paths are.
 * Dynamic `import()` is not covered by no-restricted-imports.
 */
const pattern = (regex, message, allowTypeImports = false) => ({
  regex,
  message,
  caseSensitive: true,
  ...(allowTypeImports ? { allowTypeImports } : {}),
});

const REL = String.raw`^\.\.?/(?:.*/)?`;
const EXT = String.raw`(?:\.[cm]?[jt]s)?$`;

/**
 * The repository layer (TypeORM, gRPC clients, sockets, files, the spool), by file name or
 * folder. One alternation, so an import matching two of them is reported once.
 */
const repositoryLayer = [
  pattern(
    `${REL}(?:[^/]+\\.(?:repository|notifier|pool|store)${EXT}|(?:result-writer|data-source)${EXT}|(?:repositories|spool|entities)(?:/|$))`,
    'A controller never imports the repository layer (*.repository, *.notifier, *.pool, *.store, result-writer, data-source, repositories/, spool/, entities/): call a service method and map its result.',
  ),
];

/** Packages that do I/O; only the repository layer imports them (types are fine). */
const ioPackages = (who, { grpcServerEdge = false } = {}) => [
  pattern('^typeorm(?:/|$)', `${who} never imports typeorm (only \`import type\`): go through a repository.`, true),
  ...(grpcServerEdge
    ? []
    : [pattern('^@grpc/grpc-js(?:/|$)', `${who} never imports @grpc/grpc-js (only \`import type\`): gRPC clients are repositories.`, true)]),
  pattern('^nodemailer(?:/|$)', `${who} never imports nodemailer (only \`import type\`): notifiers are repositories.`, true),
  pattern('^(?:node:)?(?:fs|fs/promises|net|tls)$', `${who} never touches files or sockets directly: go through a repository.`, true),
];

const APPS = ['agent', 'collector'];
const otherApp = (app) => APPS.find((a) => a !== app);
const crossApp = (app) => [
  pattern(
    `^(?:\\.\\./)+(?:apps/${otherApp(app)}(?:/|$)|${otherApp(app)}/src(?:/|$))`,
    `apps/${app} never imports apps/${otherApp(app)}: move what both need to libs/common.`,
  ),
];
const libToApp = [pattern('^(?:\\.\\./)+apps(?:/|$)', 'libs never import apps: the dependency goes the other way.')];

const CONTROLLERS = ['**/*.controller.ts', '**/*.guard.ts', '**/*.filter.ts', '**/*.pipe.ts', '**/views/**/*.ts', '**/views/**/*.tsx'];
const SERVICES = ['**/*.service.ts'];
// Specs and test helpers wire real repositories on purpose; the app boundary still holds.
const NOT_LAYERED = ['**/*.spec.ts', '**/testing.ts'];

const restrict = (patterns) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
});

// Flat config replaces (does not merge) a rule's options when several blocks match a file,
// so each block carries the union of what applies to its files, most specific last.
const boundaries = [
  ...APPS.flatMap((app) => [
    { name: `rounds/boundaries/${app}`, files: [`apps/${app}/**/*.ts`, `apps/${app}/**/*.tsx`], rules: restrict(crossApp(app)) },
    {
      name: `rounds/boundaries/${app}/services`,
      files: SERVICES.map((g) => `apps/${app}/${g}`),
      ignores: NOT_LAYERED,
      rules: restrict([...crossApp(app), ...ioPackages('A service')]),
    },
    {
      name: `rounds/boundaries/${app}/controllers`,
      files: CONTROLLERS.map((g) => `apps/${app}/${g}`),
      ignores: NOT_LAYERED,
      rules: restrict([...crossApp(app), ...ioPackages('A controller'), ...repositoryLayer]),
    },
  ]),
  // The agent's token guard is a gRPC server interceptor: the inbound edge of the controller
  // layer, checking a call's metadata before Nest parses its body. It is no gRPC client.
  {
    name: 'rounds/boundaries/agent/grpc-server-edge',
    files: ['apps/agent/src/controllers/token.guard.ts'],
    rules: restrict([...crossApp('agent'), ...ioPackages('A controller', { grpcServerEdge: true }), ...repositoryLayer]),
  },
  { name: 'rounds/boundaries/libs', files: ['libs/**/*.ts'], rules: restrict(libToApp) },
];

export default tseslint.config(
  {
    name: 'rounds/ignores',
    ignores: ['**/dist/**', '**/node_modules/**', 'libs/common/src/generated/**', '.quickstart/**', 'bench/results/**', 'build/**'],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    name: 'rounds/typescript',
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/it()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
        },
      ],
      // A promise-returning contract (plugin run(), scheduler tasks, fakes) is written `async` on
      // purpose so that a throw becomes a rejection, which the runner reports as plugin_error.
      '@typescript-eslint/require-await': 'off',
      // Matching control characters is the point of the text-field and share-name validators.
      'no-control-regex': 'off',
      // `_`-prefixed parameters and destructured rest siblings are deliberate omissions.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    name: 'rounds/javascript',
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  ...boundaries,
  prettier,
);
