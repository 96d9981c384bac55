import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway redis-server on a free loopback port with its data in a temporary folder, which a test may stop and
 * start again on the same port and folder (the shared Redis of the other tests is never restarted).
 */
export class ThrowawayRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'portrait-redis-fault-'));
  #server: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    /** AOF as the embedded server runs it (appendfsync everysec), or no persistence at all. */
    readonly persistent: boolean,
  ) {}

  static async start(persistent: boolean): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort(), persistent);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push('--appendonly', this.persistent ? 'yes' : 'no', '--appendfsync', 'everysec');
    const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#server = server;
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${seen}`)));
      server.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        if (seen.includes('Ready to accept connections')) resolve();
      });
    });
    server.removeAllListeners('exit');
    server.stdout?.resume();
  }

  /** SIGTERM, as a service manager restarting Redis sends: the server writes its AOF and exits. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await exited;
  }

  async destroy(): Promise<void> {
    this.#server?.kill('SIGKILL');
    this.#server = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
