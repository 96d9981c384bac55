import { hostname, networkInterfaces } from 'node:os';

/**
 * Which Host headers the playground answers. A page on any web site can make the browser send requests to
 * 127.0.0.1 through a DNS name it controls (DNS rebinding): such requests carry that foreign name in the Host header,
 * so every request whose Host is not an address this server was started on is refused. IP literals of this machine
 * and `localhost` cannot be re-pointed by a remote DNS server, so they are always safe to accept where they reach us.
 */
export interface HostRule {
  /** Lower-case host names and IP literals (IPv6 without brackets) that name this server. */
  readonly names: ReadonlySet<string>;
  readonly port: number;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** True for the addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = stripBrackets(host.toLowerCase());
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/**
 * The names a server bound to `bind` (as given to `--host`) on `port` is reached by: a loopback bind is reached as
 * 127.0.0.1, localhost or [::1]; a wildcard bind (0.0.0.0, ::) by those plus every interface address and this
 * machine's host name; any other bind by exactly the name or address given.
 */
export function hostRule(bind: string, port: number): HostRule {
  const b = stripBrackets(bind.trim().toLowerCase());
  const names = new Set<string>();
  if (isLoopbackHost(b)) {
    for (const n of [...LOOPBACK_NAMES, b]) names.add(n);
  } else if (WILDCARDS.has(b)) {
    for (const n of LOOPBACK_NAMES) names.add(n);
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) names.add(a.address.toLowerCase().replace(/%.*$/, ''));
    }
    const own = hostname().toLowerCase();
    if (own) names.add(own);
  } else {
    names.add(b);
  }
  return { names, port };
}

/** Splits a Host header ("127.0.0.1:7860", "[::1]:7860", "localhost") into a lower-case name and a port. */
export function parseHostHeader(header: string): { name: string; port: number | undefined } | undefined {
  const h = header.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/.exec(h);
  if (!m) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { name: stripBrackets(m[1]!).replace(/\.$/, ''), port };
}

/** Whether a request's Host header names this server (a missing port means 80, as browsers send it). */
export function hostAllowed(header: string | undefined, rule: HostRule): boolean {
  if (!header) return false;
  const parsed = parseHostHeader(header);
  if (!parsed) return false;
  return rule.names.has(parsed.name) && (parsed.port ?? 80) === rule.port;
}

/**
 * Whether a request's Origin header (sent by browsers on every cross-origin request and on same-origin POSTs) is
 * this server. A missing Origin is accepted: non-browser clients (curl) send none, and browsers always send it where
 * a foreign page could be behind the request.
 */
export function originAllowed(origin: string | undefined, rule: HostRule): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:') return false;
  return hostAllowed(url.host, rule);
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}
