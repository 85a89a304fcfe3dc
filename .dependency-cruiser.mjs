// One-way dependencies, checked by `npm run lint` (`depcruise lib sample`).
//
// Layers, lowest first (DESIGN.md, Layout: context ← session ← flags/policy ← module). A layer
// imports only from layers below it; each folder's rule below lists what it may reach.
//
//   authkit.constants.ts  injection tokens and limits: a pure leaf
//   context/              ExecutionContext → request, credential, answer: a leaf folder
//   store/                the Store contract and MemoryStore: stands alone
//   authkit.options.ts    the options and resolved-config *types*: type imports only
//   metrics/              the metrics recorder every layer reports to (DESIGN.md is silent:
//                         it sits below session because session, flags and access all record)
//   session/              cookie, token, refresh, resolver, staleness rule, guard base
//   credentials/          API keys: another principal beside the session (DESIGN.md, Access
//                         policy and credentials); above session, as it builds sessions, and
//                         plugged into the guard base through an injection token
//   flags/                flag state, freshness, webhooks
//   access/               DESIGN.md's policy/: the decorators and the guard that decide
//   auth/                 sign-in routes: a sibling of flags and access, needs session only
//   authkit.config.ts, authkit.module*.ts, index.ts   the module: may import any of the above
//
// Entry points of their own (package.json exports), each reaching lib only through the public
// surface, so that what users see is what they get:
//   testing/      the emulator: lib/index.ts, plus two self-contained codecs it must agree
//                 with byte for byte (session/iron.ts, the Fe26.2 seal; flags/flag-evaluation.ts,
//                 WorkOS's flag rules) which are kept leaves so nothing else comes along
//   redis/        store/ (the contract it implements) and lib/index.ts
//   openfeature/  lib/index.ts only
//   terminus/     the health indicator: reads the state of the layers' providers (key set, store,
//                 live flags), so it may import any layer under the module, never the module
// lib never imports test/, sample/ or bench/; sample/ imports the package by its name only.

/** A folder's files, or a root file, as a path regex. */
const lib = (...names) => `^lib/(${names.join('|')})`;
const LOWER = {
  constants: 'authkit\\.constants\\.ts$',
  options: 'authkit\\.options\\.ts$',
  context: 'context/',
  store: 'store/',
  metrics: 'metrics/',
  session: 'session/',
  credentials: 'credentials/',
  flags: 'flags/',
};
const { constants, options, context, store, metrics, session, credentials, flags } = LOWER;
/** The layers under the module, lowest first. */
const STACK = [constants, options, context, store, metrics, session, credentials, flags];
/** The layers under `layer`. */
const below = (layer) => STACK.slice(0, STACK.indexOf(layer));

/** Imports matching `from` → `to` fail the lint. */
function forbid(name, comment, from, to) {
  return { name, comment, severity: 'error', from, to };
}

/** `folder` imports from lib only what `allowed` names. */
function layer(name, folder, allowed, comment) {
  return forbid(
    name,
    comment,
    { path: lib(folder) },
    { path: '^lib/', pathNot: lib(folder, ...allowed) },
  );
}

export default {
  forbidden: [
    forbid(
      'no-circular',
      'A cycle (type-only imports included) means two files are one concept or a layer is inverted.',
      {},
      { circular: true },
    ),
    forbid(
      'no-orphans',
      'A file of lib nothing imports is dead code (or an entry point package.json forgot).',
      { orphan: true, path: '^lib/' },
      {},
    ),
    layer(
      'constants-is-a-leaf',
      constants,
      [],
      'Tokens and limits every layer reads: they import nothing.',
    ),
    forbid(
      'options-imports-types-only',
      'The options types are read by every layer: no code of lib runs when they load (the ' +
        'resolution with its defaults and checks is authkit.config.ts, at module level).',
      { path: lib(options) },
      { path: '^lib/', dependencyTypesNot: ['type-only'] },
    ),
    layer('context-is-a-leaf', context, [], 'Below everything: turns a context into a carrier.'),
    layer(
      'store-stands-alone',
      store,
      [],
      'The Store contract: RedisStore and users implement it.',
    ),
    layer('metrics-below-session', metrics, [constants, options]),
    layer('session-below-flags', session, below(session)),
    layer('credentials-above-session', credentials, below(credentials)),
    layer('flags-below-access', flags, below(flags)),
    layer('access-below-module', 'access/', STACK),
    layer('auth-needs-session-only', 'auth/', below(credentials)),
    forbid(
      'main-entry-without-subpaths',
      'nestjs-authkit/testing, /redis, /openfeature and /terminus load optional peers or test code: the ' +
        'main entry and the layers under it never load them.',
      { path: '^lib/', pathNot: lib('testing/', 'redis/', 'openfeature/', 'terminus/') },
      { path: lib('testing/', 'redis/', 'openfeature/', 'terminus/') },
    ),
    layer('testing-uses-the-public-surface', 'testing/', [
      'index\\.ts$',
      'session/iron\\.ts$',
      'flags/flag-evaluation\\.ts$',
    ]),
    forbid(
      'testing-codecs-are-leaves',
      'What testing/ may reach besides index.ts must not bring the rest of lib along.',
      { path: lib('session/iron\\.ts$', 'flags/flag-evaluation\\.ts$') },
      { path: '^lib/' },
    ),
    layer('redis-uses-store-and-public-surface', 'redis/', [store, 'index\\.ts$']),
    layer('openfeature-uses-the-public-surface', 'openfeature/', ['index\\.ts$']),
    layer('terminus-reads-the-layers', 'terminus/', STACK),
    forbid(
      'lib-is-the-package',
      'The package never reaches into its tests, sample or benchmarks.',
      { path: '^lib/' },
      { path: '^(test|sample|bench)/' },
    ),
    forbid(
      'sample-uses-the-package-name',
      'The sample is user code: `nestjs-authkit` and its subpaths, never a path into lib/.',
      { path: '^sample/' },
      { path: '^lib/', dependencyTypesNot: ['aliased-tsconfig-paths'] },
    ),
    forbid(
      'sample-uses-entry-points',
      'Through the package name, the sample sees only what package.json exports.',
      { path: '^sample/' },
      {
        path: '^lib/',
        pathNot: lib('index\\.ts$', '(testing|redis|openfeature|terminus)/index\\.ts$'),
      },
    ),
    forbid(
      'sample-is-user-code',
      'Users have no tests or benches of ours.',
      { path: '^sample/' },
      { path: '^(test|bench)/' },
    ),
    forbid(
      'no-dev-dependencies-in-lib',
      "What lib imports ships: a devDependency that is no (peer) dependency is missing in users' installs.",
      { path: '^lib/' },
      { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['npm', 'npm-peer'] },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: they are how layers leak into each other first.
    tsPreCompilationDeps: true,
    // The root tsconfig maps `nestjs-authkit` (and subpaths) to lib/, as a user's install would.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    cache: false,
  },
};
