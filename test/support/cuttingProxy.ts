// A loopback proxy between a client and a registry that cuts the connection
// in the middle of a blob upload body (PUT or PATCH under /blobs/uploads/):
// half of the body reaches the registry, then both sockets are destroyed, the
// way a dropped network link looks to both ends. Everything else passes.
import * as http from 'node:http';
import { freePort } from './ociRegistry';

export interface CuttingProxy {
  host: string;
  /** Upload bodies cut so far. */
  cuts: number;
  close(): Promise<void>;
}

/** `cutUploads`: how many upload bodies to cut before letting them through (Infinity: all of them). */
export async function startCuttingProxy(upstreamPort: number, cutUploads: number): Promise<CuttingProxy> {
  const state = { cuts: 0 };
  const server = http.createServer((req, res) => {
    const isUploadBody = (req.method === 'PUT' || req.method === 'PATCH') && /\/blobs\/uploads\//.test(req.url ?? '') && Number(req.headers['content-length'] ?? 0) > 1;
    const cut = isUploadBody && state.cuts < cutUploads;
    const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    if (!cut) {
      req.pipe(upstream);
      return;
    }
    state.cuts++;
    const half = Math.floor(Number(req.headers['content-length']) / 2);
    let forwarded = 0;
    req.on('data', (chunk: Buffer) => {
      if (forwarded >= half) return;
      const part = chunk.subarray(0, half - forwarded);
      forwarded += part.length;
      upstream.write(part);
      if (forwarded >= half) {
        upstream.destroy();
        req.socket.destroy();
      }
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${port}`,
    get cuts() {
      return state.cuts;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
