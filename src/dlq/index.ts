// The dead-letter queue of feature partitions that could not land, and their replay.
export * from './entries.js';
export { replayRun, replayWorkflowId, type ReplayRun } from './replay.js';
export { checkAcceptable, stageAccepted, DlqAcceptRefusedError, type Acceptance } from './accept.js';
