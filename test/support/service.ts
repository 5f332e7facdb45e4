import { serve, type RunningServer, type ServeOptions } from '../../functions/local/serve.js';
import { waitFor } from './ports.js';

export interface RunView {
  runId: string;
  status: string;
  totalImages: number;
  imagesProcessed: number;
  imagesFailed: number;
  bytesCopied: number;
  startTime: string;
  endTime: string | null;
  message?: string;
  images: Record<
    string,
    {
      source: string;
      status: string;
      message?: string;
      digest?: string;
      bytes?: number;
      invocations?: number;
      startTime?: string;
      endTime?: string;
    }
  >;
}

/** `ferry serve` in-process on a random port, with test-sized retry timing. */
export function startService(options: ServeOptions = {}): Promise<RunningServer> {
  return serve({ port: 0, retryIntervalMs: 10, transport: { retry: { baseDelayMs: 5, maxDelayMs: 20 } }, ...options });
}

export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(`${base}${path}`, {
    // ferry serve takes state-changing requests only as JSON (a cross-site form cannot send that).
    method,
    headers: {
      ...(body === undefined && (method === 'GET' || method === 'HEAD') ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Polls the run until it leaves in-progress (bounded; no fixed sleeps). */
export async function waitForRun(base: string, runId: string, attempts = 2000): Promise<RunView> {
  let view: RunView | undefined;
  await waitFor(
    async () => {
      view = (await api(base, 'GET', `/v1/runs/${runId}`)).json as RunView;
      return view.status !== 'in-progress';
    },
    `run ${runId} to finish`,
    attempts,
  );
  return view!;
}
