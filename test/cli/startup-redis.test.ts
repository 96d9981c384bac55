import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.js';
import { assertRefused, closedPort, portrait } from './spawn-cli.js';

/** Start-up checks of REDIS_URL, on the spawned CLI (`portrait worker`, `start`, `generate`). */

describe('Redis', () => {
  it('an http:// REDIS_URL is refused before anything starts', async () => {
    const r = await portrait(['worker'], { REDIS_URL: 'http://127.0.0.1:6379' });
    assertRefused(r, 2, /REDIS_URL: expected redis:\/\/host:6379, rediss:\/\/host:6380 \(TLS\) or unix:/);
  });

  it('a REDIS_URL nothing answers at ends the start (worker and generate alike)', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const sentence =
      /Nothing answers at REDIS_URL=redis:\/\/127\.0\.0\.1:\d+ \(connection refused\): start Redis there or correct REDIS_URL/;
    assertRefused(await portrait(['worker'], { REDIS_URL: url }), 1, sentence);
    const selfie = resolve(PROJECT_ROOT, 'samples/obama.jpg');
    assertRefused(await portrait(['generate', '--selfie', selfie], { REDIS_URL: url }), 1, sentence);
  });

  it('a host that does not exist is named, the password never shown', async () => {
    const r = await portrait(['worker'], { REDIS_URL: 'redis://user:s3cret-pass@no-such-host.invalid:6379' });
    assertRefused(r, 1, /The host in REDIS_URL=redis:\/\/user:\*\*\*@no-such-host\.invalid:6379 was not found/);
    assert.doesNotMatch(r.stderr, /s3cret-pass/);
  });

  it('something that is not Redis at REDIS_URL (an HTTP server) is said so', async () => {
    const sockets = new Set<Socket>();
    const http = createServer((socket) => {
      sockets.add(socket);
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
    try {
      const r = await portrait(['worker'], {
        REDIS_URL: `redis://127.0.0.1:${(http.address() as { port: number }).port}`,
      });
      assertRefused(
        r,
        1,
        // Which sentence comes depends on whether the server's reply or its close arrives first; both name the
        // variable, in either order.
        /^(?=[\s\S]*(not Redis answers at|closed the connection without answering))(?=[\s\S]*REDIS_URL=redis:\/\/127\.0\.0\.1:\d+)/,
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((ok) => http.close(ok));
    }
  });
});
