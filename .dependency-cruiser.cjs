// Import direction as a check (STYLE 13): data flows http → sources → records → avro → delivery; wiring lives in app.ts.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'sources-are-pure',
      comment: 'A source component parses and routes; it never reaches HTTP, Avro, Kafka or the pipeline.',
      severity: 'error',
      from: { path: '^src/sources/' },
      to: { path: '^src/(http|avro|delivery|cli|observability)/|^src/(pipeline|app|main)\\.ts$' },
    },
    {
      name: 'components-never-reach-upstream',
      comment: 'Avro, delivery and observability know nothing of HTTP, sources or the pipeline.',
      severity: 'error',
      from: { path: '^src/(avro|delivery|observability)/' },
      to: { path: '^src/(http|sources|cli)/|^src/(pipeline|app|main)\\.ts$' },
    },
    {
      name: 'http-uses-the-pipeline-not-its-parts',
      comment: 'The HTTP edge hands bodies to the pipeline; it does not encode or deliver itself.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/(avro|delivery|sources|cli)/|^src/(app|main)\\.ts$' },
    },
    {
      name: 'config-stands-alone',
      comment: 'Config reads only the registry of senders (for their options); senders read only config/source-common.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(?!config/|errors\\.ts|sources/index\\.ts)' },
    },
    {
      name: 'senders-see-only-what-every-source-has',
      comment: "A sender's folder knows the common source keys, not the whole config: that is derived from the senders.",
      severity: 'error',
      from: { path: '^src/sources/' },
      to: { path: '^src/config/(?!source-common\\.ts)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
}
