import { request } from 'node:http';

/**
 * A small HTTP client for the playground tests. node's fetch refuses to set the Host header, which is exactly what
 * the DNS-rebinding tests need to set, so this speaks node:http and keeps the session cookie like a browser.
 */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
  text(): string;
}

export class Client {
  cookie = '';
  constructor(readonly port: number) {}

  send(
    method: string,
    path: string,
    options: {
      body?: Uint8Array | string;
      headers?: Record<string, string>;
      host?: string;
      /** Send the body without a Content-Length, as a stream would. */
      chunked?: boolean;
    } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {
      host: options.host ?? `127.0.0.1:${this.port}`,
      ...(this.cookie ? { cookie: this.cookie } : {}),
      ...(method === 'POST' ? { 'x-playground': '1' } : {}),
      ...(options.body !== undefined && !options.chunked
        ? { 'content-length': String(Buffer.byteLength(options.body)) }
        : {}),
      ...options.headers,
    };
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const set = res.headers['set-cookie']?.[0];
          if (set) this.cookie = set.split(';')[0]!;
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
            text: () => body.toString('utf8'),
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (options.body !== undefined) req.write(options.body);
      req.end();
    });
  }

  get(path: string, options: { headers?: Record<string, string>; host?: string } = {}) {
    return this.send('GET', path, options);
  }

  post(
    path: string,
    body: unknown,
    options: { headers?: Record<string, string>; host?: string; chunked?: boolean } = {},
  ) {
    const raw = body instanceof Uint8Array ? body : JSON.stringify(body);
    const type = body instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
    return this.send('POST', path, { ...options, body: raw, headers: { 'content-type': type, ...options.headers } });
  }

  /** Reads the job's server-sent events until it is done or failed; returns the last view. */
  watch(jobId: string, timeoutMs = 90_000): Promise<Record<string, unknown> & { status: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`job ${jobId} did not finish in ${timeoutMs} ms`)), timeoutMs);
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          path: `/api/jobs/${encodeURIComponent(jobId)}/events`,
          headers: { host: `127.0.0.1:${this.port}`, cookie: this.cookie },
        },
        (res) => {
          let buffer = '';
          let last: (Record<string, unknown> & { status: string }) | undefined;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let end = buffer.indexOf('\n\n');
            while (end >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = block
                .split('\n')
                .filter((l) => l.startsWith('data: '))
                .map((l) => l.slice(6))
                .join('\n');
              if (data) last = JSON.parse(data);
              end = buffer.indexOf('\n\n');
            }
          });
          res.on('end', () => {
            clearTimeout(timer);
            if (last) resolve(last);
            else reject(new Error('the event stream ended without a job view'));
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
}
