// Inputs, results and activity signatures of the gold workflows. Types only: safe for the workflow
// bundle, and the contract between workflows, activities and the in-process runner.
import type { QualityConfig } from '../quality/config.js';

export type RunKind = 'daily' | 'backfill' | 'replay';

export interface SlaConfig {
  /** Gold for the date committed by this instant (ISO), e.g. 06:00 UTC on D+1. Ignored when already past at start. */
  commitBy?: string;
  /** Longest the whole run may take. */
  maxRunMs?: number;
  /** Longest one step (one activity, retries included) may take. */
  maxStepMs?: number;
}

export interface SilverWait {
  /** How long to wait for a missing or incomplete silver partition before failing. */
  maxWaitMs: number;
  pollMs: number;
}

/** A DLQ'd family's staged partition landed as it is (`gold dlq replay --accept`): only soft checks had failed. */
export interface AcceptedStaging {
  family: string;
  /** The staged partition of the run that failed (lake key). */
  stagingPath: string;
  dlqEntryId: string;
  acceptedBy: string;
  reason: string;
  /** The soft checks that had failed, as their messages. */
  failedChecks: string[];
}

export interface DailyInput {
  date: string;
  /** Restrict to these families (and what they depend on). */
  families?: string[];
  runKind?: RunKind;
  /** A DLQ replay closes this entry when its family lands. */
  dlqEntryId?: string;
  /** Land this family's accepted staged data instead of computing and validating it. */
  accept?: AcceptedStaging;
  sla?: SlaConfig;
  silverWait?: SilverWait;
  /** Overrides of the activity policies (timeouts and retries), by activity group. */
  policies?: Partial<Record<PolicyGroup, Partial<ActivityPolicy>>>;
  /** Validation thresholds and severities for this run (e.g. drift only warns while a backfill ramps up). */
  quality?: QualityConfig;
  /** Task queue of the heavy activities (partials, compute, validate, commit, materialize); default the workflow's. */
  heavyTaskQueue?: string;
}

export type PolicyGroup = 'plan' | 'partials' | 'compute' | 'validate' | 'commit' | 'materialize' | 'bookkeeping';

export interface ActivityPolicy {
  startToCloseMs: number;
  heartbeatMs?: number;
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface StepReport {
  step: 'plan' | 'partials' | 'compute' | 'validate' | 'commit' | 'materialize' | 'consistency' | 'metrics' | 'dlq';
  family?: string;
  status: StepStatus;
  attempts: number;
  startedAt?: number;
  seconds?: number;
  rows?: number;
  qualityScore?: number;
  dlqEntryId?: string;
  error?: string;
  detail?: string;
}

export interface SlaMiss {
  kind: 'commit_by' | 'max_run' | 'max_step';
  detail: string;
  at: number;
}

export interface DailyReport {
  date: string;
  runId: string;
  runKind: RunKind;
  status: 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled';
  startedAt: number;
  finishedAt?: number;
  steps: StepReport[];
  slaMisses: SlaMiss[];
  dlqEntries: string[];
  familiesLanded: string[];
  /** The families the plan holds, once planned. */
  planned?: string[];
  /** The staged data this run landed as it is, by a person's decision. */
  accepted?: AcceptedStaging;
}

/** What an activity reports besides its result: the attempt it succeeded on. */
export interface Attempted {
  attempt: number;
}

export interface PlanResult extends Attempted {
  stages: string[][];
  /** Each planned family's dependencies, so that a failure skips exactly what needs it. */
  dependencies: Record<string, string[]>;
  silverReady: boolean;
  missing: { date: string; reason: string }[];
}

export interface PartialsResult extends Attempted {
  daysComputed: number;
  rowsRead: number;
  rowsAccepted: number;
  rowsQuarantined: number;
}

export interface ComputeResult extends Attempted {
  stagingPath: string;
  rows: number;
}

export interface ValidateResult extends Attempted {
  passed: boolean;
  qualityScore: number;
  errors: string[];
  warnings: string[];
  /** The partition to commit: the staged one, or a filtered copy when rows were quarantined. */
  stagingPath: string;
  reportPath?: string;
  sampleRows?: unknown[];
}

export interface CommitResult extends Attempted {
  goldPath: string;
  rows: number;
  skipped: boolean;
}

export interface MaterializeResult extends Attempted {
  rows: number;
  written: number;
  skippedOlder: number;
  /** Rows already past their TTL, not written (absent in results of older workers). */
  skippedExpired?: number;
}

export interface DailyActivities {
  planDaily(a: { date: string; families?: string[] }): Promise<PlanResult>;
  buildPartials(a: { date: string; runTime: string }): Promise<PartialsResult>;
  computeFeatureFamily(a: { family: string; date: string; runId: string; createdAt: string }): Promise<ComputeResult>;
  stageAcceptedFamily(a: { family: string; date: string; runId: string; fromPath: string }): Promise<ComputeResult>;
  validateFeatureFamily(a: { family: string; date: string; runId: string; stagingPath: string; quality?: QualityConfig }): Promise<ValidateResult>;
  commitFeatureFamily(a: { family: string; date: string; runId: string; stagingPath: string }): Promise<CommitResult>;
  materializeFeatureFamily(a: { family: string; date: string; goldPath: string }): Promise<MaterializeResult>;
  sendToDlq(a: {
    family: string;
    date: string;
    runId: string;
    workflowId: string;
    reason: 'validation' | 'retries_exhausted' | 'error';
    error: string;
    dataPath?: string;
    sampleRows?: unknown[];
  }): Promise<{ entryId: string }>;
  consistencySample(a: { date: string; families: string[]; sample: number }): Promise<{ checked: number; mismatches: number; missing: number }>;
  recordRun(a: { report: DailyReport }): Promise<{ path: string }>;
  raiseAlert(a: { date: string; runId: string; kind: string; detail: string }): Promise<void>;
  closeDlqEntry(a: { id: string; runId: string }): Promise<void>;
}

export interface BackfillInput {
  from: string;
  to: string;
  families?: string[];
  /** Most dates running at once. */
  concurrency: number;
  /** Recompute dates whose gold is already committed with the same code and schema. */
  force?: boolean;
  policies?: DailyInput['policies'];
  quality?: DailyInput['quality'];
  heavyTaskQueue?: string;
  /** Carried over by continue-as-new. */
  carried?: BackfillProgress;
}

export interface BackfillDateResult {
  date: string;
  status: 'succeeded' | 'partial' | 'failed' | 'skipped';
  seconds?: number;
  detail?: string;
}

export interface BackfillProgress {
  total: number;
  startedAt: number;
  /** Dates still to start, ascending. */
  pending: string[];
  running: string[];
  results: BackfillDateResult[];
  paused: boolean;
  cancelled: boolean;
  runs: number;
}

export interface BackfillPlan {
  toRun: string[];
  skipped: string[];
}

export interface BackfillActivities {
  planBackfill(a: { from: string; to: string; families?: string[]; force?: boolean }): Promise<BackfillPlan>;
  buildPartials(a: { date: string; runTime: string }): Promise<PartialsResult>;
}

/** The input of the workflow a Temporal Schedule starts (schedule arguments are static: the date comes from the start time). */
export interface ScheduledDailyInput {
  /** Days between the scheduled start's UTC date and the feature date (default 1: yesterday). */
  lagDays?: number;
  /** Hours after as_of(D) by which gold must be committed (the SLA deadline); default 6. */
  commitWithinHours?: number;
  policies?: DailyInput['policies'];
  /** Validation overrides of every scheduled run (drift warn-only, row quarantine). */
  quality?: DailyInput['quality'];
  heavyTaskQueue?: string;
}

/** The daily report, or the date whose daily run was already started (by hand or by an earlier fire). */
export type ScheduledDailyResult = DailyReport | { date: string; alreadyStarted: true };
