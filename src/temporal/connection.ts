// Client connections to the Temporal frontend.
import { Client, Connection } from '@temporalio/client';
import type { Settings } from '../config/settings.js';

export async function connectClient(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace'>, timeoutMs = 5000): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.temporalAddress, connectTimeout: timeoutMs });
  } catch (e) {
    // The SDK says only that it could not connect: name where, and what usually fixes it.
    throw new Error(
      `cannot reach Temporal at ${settings.temporalAddress} (${(e as Error).message}): start the local stack with \`gold dev up\`, or set TEMPORAL_ADDRESS / --temporal-address`,
    );
  }
  return new Client({ connection, namespace: settings.temporalNamespace });
}

/** Runs fn with a client, its connection closed afterwards. */
export async function withClient<T>(settings: Pick<Settings, 'temporalAddress' | 'temporalNamespace'>, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(settings);
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** True when the frontend answers. */
export async function temporalReachable(address: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/** How many workers poll a task queue for workflow tasks right now. */
/** Pollers of the task queue's workflow tasks; with `pid`, only those of that process (identity `<pid>@<host>`, the SDK's default). */
export async function workflowPollers(client: Client, taskQueue: string, pid?: number): Promise<number> {
  const r = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (r.pollers ?? []).filter((p) => pid === undefined || (p.identity ?? '').startsWith(`${pid}@`)).length;
}

export function webUiUrl(uiPort: number, namespace: string, workflowId?: string): string {
  const base = `http://127.0.0.1:${uiPort}/namespaces/${encodeURIComponent(namespace)}/workflows`;
  return workflowId ? `${base}/${encodeURIComponent(workflowId)}` : base;
}
