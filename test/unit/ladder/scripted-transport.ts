import { Readable } from 'node:stream';
import { anonymous } from '../../../functions/oci/auth/credentials.js';
import { RegistryClient } from '../../../functions/oci/registry-client.js';
import { RegistryRepository } from '../../../functions/oci/registry-repository.js';
import type { RetryBudgetOptions, RetryPolicy } from '../../../functions/oci/retry.js';
import { type HttpRequest, type HttpResponse, Transport } from '../../../functions/oci/transport.js';
import type { FakeClock } from './fake-clock.js';

/** What the script answers to one request: a response, or an error the send throws. */
export type Answer =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: Readable | Buffer | string }
  | Error;

/**
 * A real Transport whose `send` is a script: no sockets. `GET /v2/` (the ping) answers 200; every
 * other request is logged in `sent` and answered by `answer` (n counts the logged requests, from 1).
 */
export function scriptedTransport(
  clock: FakeClock,
  answer: (req: HttpRequest, n: number) => Answer,
  options: { retry?: Partial<RetryPolicy>; retryBudget?: Partial<RetryBudgetOptions> } = {},
) {
  const transport = new Transport({
    endpoints: new Map([
      ['reg.test', 'http://reg.test/'],
      ['other.test', 'http://other.test/'],
    ]),
    clock,
    retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 10_000, ...options.retry },
    ...(options.retryBudget ? { retryBudget: options.retryBudget } : {}),
  });
  const sent: HttpRequest[] = [];
  transport.send = (req: HttpRequest): Promise<HttpResponse> => {
    if (req.url.pathname === '/v2/')
      return Promise.resolve({ status: 200, headers: {}, body: Readable.from([]), url: req.url });
    sent.push(req);
    const a = answer(req, sent.length);
    if (a instanceof Error) return Promise.reject(a);
    const body = a.body instanceof Readable ? a.body : Readable.from(a.body === undefined ? [] : [Buffer.from(a.body)]);
    return Promise.resolve({ status: a.status, headers: a.headers ?? {}, body, url: req.url });
  };
  const client = (registry = 'reg.test') => new RegistryClient(registry, transport, anonymous);
  const repository = (name: string, registry = 'reg.test') => new RegistryRepository(client(registry), name);
  return { transport, sent, client, repository };
}

/** A body that sends `bytes` and then fails as a reset connection does. */
export function cutBody(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) this.destroy(Object.assign(new Error('socket reset'), { code: 'ECONNRESET' }));
      else {
        sent = true;
        this.push(bytes);
      }
    },
  });
}
