// Workflow code only: deterministic, no I/O. Everything here is bundled for the Temporal sandbox.
export { smokeWorkflow } from './smoke.js';
