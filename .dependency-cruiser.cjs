// The layers of the repository and the rules that keep them pointing one way (run by `npm test`).
//   src/shared              bottom: logging, dates, small helpers; imports nothing above it
//   src/* (core)            the pipeline: knows nothing of Temporal, of the CLI or of the servers
//   src/pipeline            the daily DAG, its types and step policies: pure, hosted by workflows/ and the local runner
//   src/temporal            the Temporal client side (connection, ids, typed workflow starts)
//   workflows/, activities/, workers/   thin Temporal adapters over src/
//   src/cli, src/serving, src/dev, src/doctor, bin/   the top: commands and servers
const TOP = '^src/(cli|serving|dev|doctor)/';
const TEMPORAL_AWARE = '^(src/(temporal|cli|dev|doctor)|workflows|activities|workers)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Modules import each other: split the shared part out.', from: {}, to: { circular: true } },
    {
      name: 'core-not-into-adapters',
      severity: 'error',
      comment: 'src/ is the library; workflows/, activities/ and workers/ are its Temporal adapters and sit above it.',
      from: { path: '^src/', pathNot: TOP },
      to: { path: '^(workflows|activities|workers)/' },
    },
    {
      name: 'top-not-into-workflows-or-activities',
      severity: 'error',
      comment: 'The CLI starts workflows through src/temporal and runs the DAG in process through src/steps; it may start a worker (workers/).',
      from: { path: TOP },
      to: { path: '^(workflows|activities)/' },
    },
    {
      name: 'shared-at-the-bottom',
      severity: 'error',
      comment: 'src/shared is used by every layer and imports none of them.',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'core-knows-no-temporal',
      severity: 'error',
      comment: 'Only the Temporal adapters and the client side (src/temporal) import Temporal packages.',
      from: { path: '^src/', pathNot: TEMPORAL_AWARE },
      to: { path: '@temporalio/' },
    },
    {
      name: 'core-not-into-top',
      severity: 'error',
      comment: 'The CLI and the servers sit on top: nothing below imports them.',
      from: { path: '^(src|workflows|activities|workers)/', pathNot: TOP },
      to: { path: TOP },
    },
    {
      name: 'top-not-into-each-other',
      severity: 'error',
      comment: 'The feature server does not depend on the CLI.',
      from: { path: '^src/serving/' },
      to: { path: '^src/(cli|dev|doctor)/' },
    },
    {
      name: 'workflows-deterministic',
      severity: 'error',
      comment: 'Workflow code runs in the Temporal sandbox: no Node built-ins, no I/O modules, only @temporalio/workflow and pure code.',
      from: { path: '^workflows/' },
      to: { dependencyTypes: ['core', 'npm'], pathNot: '^node_modules/@temporalio/(workflow|common)/' },
    },
    {
      name: 'workflows-import-pure-code',
      severity: 'error',
      comment: 'Workflows run the pure DAG (src/pipeline) over durable activities: other src/ modules only as types.',
      from: { path: '^workflows/' },
      to: { path: '^(src|activities)/', pathNot: '^src/(pipeline/|shared/dates\\.ts|temporal/search-attributes\\.ts)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'pipeline-pure',
      severity: 'error',
      comment: 'The DAG is pure data and logic, hosted by the workflows and by the in-process runner: no I/O, no Node built-ins.',
      from: { path: '^src/pipeline/' },
      to: { dependencyTypes: ['core', 'npm'] },
    },
    {
      name: 'pipeline-imports-pure-code',
      severity: 'error',
      comment: 'The DAG imports other src/ modules only as types, so that the workflow bundle stays free of I/O.',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/', pathNot: '^src/(pipeline/|shared/dates\\.ts)', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
