/**
 * The layering, checked on every `npm test` (README › Layering):
 *   services/ → shared/edges, shared/composition, shared/usecases → shared/domain, shared/ports
 *   shared/adapters implement shared/ports; shared/composition and local/ wire adapters together.
 *   cli/ is a client of the API: the pure domain and the wiring, nothing else of ours.
 */
const DOMAIN_FORBIDDEN_NODE =
  '^(node:)?(fs|fs/promises|http|https|net|tls|dgram|child_process|worker_threads|cluster|stream|stream/promises)$';
const PROVIDER_SDKS = '^(@aws-sdk|@aws-lambda-powertools|openai|@pinecone-database|@lancedb|@middy)/?';

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'A cycle makes layers meaningless.', from: {}, to: { circular: true } },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'shared/domain does no I/O: no adapter, SDK or node I/O module, no outer layer.',
      from: { path: '^shared/domain/' },
      to: {
        path: [
          `^shared/(adapters|composition|edges|usecases)/`,
          '^(services|local|infra|bench|simulators)/',
          PROVIDER_SDKS,
          DOMAIN_FORBIDDEN_NODE,
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'ports-are-types',
      severity: 'error',
      comment: 'Ports describe the outside world; they implement nothing.',
      from: { path: '^shared/ports/' },
      to: { path: ['^shared/(adapters|composition|edges|usecases)/', '^(services|local|infra)/'] },
    },
    {
      name: 'usecases-see-ports-only',
      severity: 'error',
      comment: 'Use cases reach the outside only through ports: no adapter, edge, composition root or SDK.',
      from: { path: '^shared/usecases/' },
      to: { path: ['^shared/(adapters|composition|edges)/', '^(services|local|infra)/', PROVIDER_SDKS] },
    },
    {
      name: 'edges-call-no-usecase',
      severity: 'error',
      comment: 'Edges turn triggers into calls and errors into answers; the handler in services/ picks the use case.',
      from: { path: '^shared/edges/' },
      to: { path: ['^shared/(usecases|adapters|composition)/', '^(services|local|infra)/'] },
    },
    {
      name: 'adapters-know-no-callers',
      severity: 'error',
      comment: 'An adapter implements a port; it never calls a use case or an edge.',
      from: { path: '^shared/adapters/' },
      to: { path: ['^shared/(usecases|edges|composition)/', '^(services|local|infra)/'] },
    },
    {
      name: 'shared-knows-no-outer-folder',
      severity: 'error',
      comment: 'What is deployed (shared/, services/) never imports the CLI, local mode, the bench, simulators or tests.',
      from: { path: '^(shared|services)/' },
      to: { path: '^(cli|local|bench|simulators|tests)/' },
    },
    {
      name: 'cli-is-an-http-client',
      severity: 'error',
      comment:
        'The CLI reaches the system through its API (and S3 to upload): it may use the pure domain and read the wiring, nothing that runs it.',
      from: { path: '^cli/' },
      to: { path: ['^shared/(?!domain/)', '^infra/(?!wiring\\.ts$)', '^(services|local|bench|simulators|tests)/'] },
    },
    {
      name: 'services-are-thin',
      severity: 'error',
      comment: 'A handler parses, calls a use case and maps the result; it never builds adapters itself.',
      from: { path: '^services/' },
      to: { path: ['^shared/adapters/', PROVIDER_SDKS] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|^\\.serverless/|^\\.esbuild/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
