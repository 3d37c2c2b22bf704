import { createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy in front of the AWS emulator that injects the faults S3 users meet: an endpoint
 * that goes away mid-upload (connections reset, new ones refused, for a while) and a bucket that
 * refuses writes (403 AccessDenied, as S3 answers). Everything else passes through unchanged,
 * so the job still talks to a real S3 API.
 */
export interface FaultProxy {
  readonly endpoint: string;
  /** Reset everything once this many request-body bytes went through, then stay down `forMs`. */
  cutAfter(bytes: number, forMs: number): void;
  /** Answer object writes (PUT, multipart POST) with 403 AccessDenied. */
  denyWrites(deny: boolean): void;
  /**
   * Let `parts` multipart part uploads through, then hold every later one (never forwarded, never
   * answered) until the client gives up on it: an upload caught mid-way, for as long as a test needs.
   */
  holdPartsAfter(parts: number | undefined): void;
  /** Part uploads forwarded (completed or not), and part uploads held, since holdPartsAfter. */
  readonly partsForwarded: number;
  readonly partsHeld: number;
  /**
   * Answer every GET whose body is longer than `bytes` with its first `bytes` only, then hold the
   * rest (never sent, the response never ended): a download caught mid-way.
   */
  holdReadsAfter(bytes: number | undefined): void;
  /** Downloads held since holdReadsAfter, and how many of them the client then closed. */
  readonly readsHeld: number;
  readonly readsClosedByClient: number;
  /** Whether a cut happened. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let cutAt: number | undefined;
  let downFor = 0;
  let downUntil = 0;
  let forwarded = 0;
  let deny = false;
  let cuts = 0;
  let holdAfter: number | undefined;
  let partsForwarded = 0;
  let partsHeld = 0;
  let holdReadsAfter: number | undefined;
  let readsHeld = 0;
  let readsClosedByClient = 0;

  const server = createServer((req, res) => {
    if (Date.now() < downUntil) {
      req.socket.destroy();
      return;
    }
    const isWrite = req.method === 'PUT' || (req.method === 'POST' && /[?&]upload/.test(req.url ?? ''));
    if (deny && isWrite) {
      req.resume();
      req.on('end', () => {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
        );
      });
      return;
    }
    const isPart = req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '');
    if (isPart && holdAfter !== undefined) {
      if (partsForwarded >= holdAfter) {
        partsHeld += 1;
        req.pause();
        return;
      }
      partsForwarded += 1;
    }
    const proxied = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        const length = Number(upstreamRes.headers['content-length'] ?? 0);
        const limit = holdReadsAfter;
        if (req.method !== 'GET' || limit === undefined || length <= limit) {
          upstreamRes.pipe(res);
          return;
        }
        let sent = 0;
        let held = false;
        upstreamRes.on('data', (chunk: Buffer) => {
          if (held) return;
          const room = limit - sent;
          res.write(chunk.subarray(0, Math.max(room, 0)));
          sent += Math.min(chunk.length, Math.max(room, 0));
          if (sent >= limit) {
            held = true;
            readsHeld += 1;
            upstreamRes.destroy();
            res.on('close', () => {
              readsClosedByClient += 1;
            });
          }
        });
      },
    );
    proxied.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      forwarded += chunk.length;
      if (cutAt !== undefined && forwarded >= cutAt) {
        cutAt = undefined;
        cuts += 1;
        downUntil = Date.now() + downFor;
        proxied.destroy();
        for (const socket of sockets) socket.destroy();
      }
    });
    req.pipe(proxied);
  });
  server.on('connection', (socket) => {
    if (Date.now() < downUntil) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cutAfter(bytes, forMs) {
      forwarded = 0;
      cutAt = bytes;
      downFor = forMs;
    },
    denyWrites(value) {
      deny = value;
    },
    holdPartsAfter(parts) {
      holdAfter = parts;
      partsForwarded = 0;
      partsHeld = 0;
    },
    get partsForwarded() {
      return partsForwarded;
    },
    get partsHeld() {
      return partsHeld;
    },
    holdReadsAfter(bytes) {
      holdReadsAfter = bytes;
      readsHeld = 0;
      readsClosedByClient = 0;
    },
    get readsHeld() {
      return readsHeld;
    },
    get readsClosedByClient() {
      return readsClosedByClient;
    },
    get cuts() {
      return cuts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
