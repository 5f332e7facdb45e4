import { createServer, type IncomingMessage, request as httpRequest, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** How many body bytes a held response lets through before it stalls. */
const headBytes = 64 * 1024;

export interface HeldProxy {
  readonly host: string;
  readonly url: string;
  /** Responses stalled mid-body right now. */
  held(): number;
  /** Held responses whose client went away before the body ended (a copy that stopped). */
  abandoned(): number;
  /** Resolves once `count` responses have been held (no timing: the proxy says when). */
  waitHeld(count: number): Promise<void>;
  /** Stops holding: held bodies go on, later ones pass straight through. */
  release(): void;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy in front of a real registry that stalls chosen responses mid-body: the headers
 * and the first 64 KiB go out, the rest waits for `release()`. A copy whose source blob is
 * stalled like this is "a copy already streaming" (cancel and crash tests). `silent`: the
 * request itself waits (no headers) until `release()`, then its headers and first 64 KiB go out
 * and the rest never does (the client is expected to hang up).
 */
export async function startHeldProxy(
  upstream: string,
  hold: (method: string, url: string) => boolean,
  options: { silent?: boolean } = {},
): Promise<HeldProxy> {
  const target = new URL(upstream);
  let holding = true;
  let heldNow = 0;
  let heldTotal = 0;
  let abandoned = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const resumes = new Set<() => void>();
  const sockets = new Set<Socket>();
  const notify = (): void => {
    for (const w of [...waiters]) if (heldTotal >= w.count) w.resolve();
  };
  const server: Server = createServer((req, res) => {
    if (options.silent && holding && hold(req.method ?? 'GET', req.url ?? '/')) {
      heldNow++;
      heldTotal++;
      const answer = (): void => {
        resumes.delete(answer);
        heldNow--;
        // Answered late: a client that gave up meanwhile has hung up already (its abort closed the
        // connection while it waited), or hangs up on the body now.
        if (req.socket.destroyed) {
          abandoned++;
          res.destroy();
          return;
        }
        res.on('close', () => {
          if (!res.writableFinished) abandoned++;
        });
        forward(true);
      };
      resumes.add(answer);
      notify();
      return;
    }
    forward();
    /** `late`: a silent request answered after all — its body stalls after the first bytes, so only a client that hangs up ends it. */
    function forward(late = false): void {
      const upstreamReq = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (up: IncomingMessage) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          if (late) {
            let passed = 0;
            up.on('data', (chunk: Buffer) => {
              if (passed < headBytes) res.write(chunk.subarray(0, headBytes - passed));
              passed += chunk.length;
            });
            return;
          }
          if (options.silent || !holding || !hold(req.method ?? 'GET', req.url ?? '/')) {
            up.pipe(res);
            return;
          }
          let sent = 0;
          let isHeld = false;
          let done = false;
          let piped = false;
          const resume = (): void => {
            piped = true;
            resumes.delete(resume);
            if (isHeld) heldNow--;
            isHeld = false;
            up.off('data', onData);
            up.pipe(res);
            up.resume();
          };
          const onData = (chunk: Buffer): void => {
            if (isHeld) return;
            const room = headBytes - sent;
            const first = room >= chunk.length ? chunk : chunk.subarray(0, room);
            res.write(first);
            sent += first.length;
            if (sent < headBytes) return;
            // The rest of this chunk waits with the stream: unshift keeps it in order.
            up.pause();
            if (first.length < chunk.length) up.unshift(chunk.subarray(first.length));
            isHeld = true;
            heldNow++;
            heldTotal++;
            resumes.add(resume);
            notify();
          };
          up.on('data', onData);
          up.on('end', () => {
            done = true;
            if (!piped) res.end(); // shorter than the held head: it was all sent
          });
          res.on('close', () => {
            if (!done && !res.writableFinished) {
              if (isHeld) {
                abandoned++;
                heldNow--;
                isHeld = false;
                resumes.delete(resume);
              }
              up.destroy();
            }
          });
        },
      );
      upstreamReq.on('error', () => res.destroy());
      req.pipe(upstreamReq);
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    held: () => heldNow,
    abandoned: () => abandoned,
    waitHeld: (count) =>
      new Promise((resolve) => {
        if (heldTotal >= count) resolve();
        else waiters.push({ count, resolve });
      }),
    release: () => {
      holding = false;
      for (const resume of [...resumes]) resume();
    },
    stop: async () => {
      holding = false;
      for (const resume of [...resumes]) resume();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
