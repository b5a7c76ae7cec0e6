// The dead-letter queue of feature partitions that could not land, and their replay.

export { type Acceptance, checkAcceptable, DlqAcceptRefusedError, stageAccepted } from './accept.js';
export * from './entries.js';
export { type ReplayRun, replayRun, replayWorkflowId } from './replay.js';
