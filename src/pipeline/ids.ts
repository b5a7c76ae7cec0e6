// Workflow ids (interfaces.md): one per date for the daily job, so that a second start of the same
// date finds the first. Pure: the schedule's workflow names its child with it.

export const dailyWorkflowId = (date: string): string => `gold-daily-${date}`;

export const SCHEDULE_ID = 'gold-daily-schedule';
