import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { test } from 'node:test';
import { hostAllowed, hostRule, isLoopbackHost, originAllowed, parseHostHeader } from '../../src/playground/host.js';

test('Host headers are split into name and port, IPv6 brackets and a trailing dot removed', () => {
  assert.deepEqual(parseHostHeader('127.0.0.1:7860'), { name: '127.0.0.1', port: 7860 });
  assert.deepEqual(parseHostHeader('[::1]:7860'), { name: '::1', port: 7860 });
  assert.deepEqual(parseHostHeader('LocalHost.'), { name: 'localhost', port: undefined });
  for (const bad of ['', 'a b:1', '::1:7860', 'host:port', 'x:99999', 'evil.example@127.0.0.1:7860']) {
    assert.equal(parseHostHeader(bad), undefined, bad);
  }
});

test('a loopback server answers only to loopback names on its own port', () => {
  const rule = hostRule('127.0.0.1', 7860);
  for (const ok of ['127.0.0.1:7860', 'localhost:7860', '[::1]:7860', 'LOCALHOST:7860']) {
    assert.equal(hostAllowed(ok, rule), true, ok);
  }
  for (const bad of [
    undefined,
    '',
    'evil.example:7860',
    'localhost.evil.example:7860',
    '127.0.0.1:7861',
    '127.0.0.1',
    '127.0.0.2:7860',
    '0.0.0.0:7860',
  ]) {
    assert.equal(hostAllowed(bad, rule), false, String(bad));
  }
  assert.equal(hostAllowed('localhost', hostRule('localhost', 80)), true, 'no port means 80');
});

test('a named bind answers to that name only; a wildcard bind to every address of this machine', () => {
  const named = hostRule('portraits.lan', 8080);
  assert.equal(hostAllowed('portraits.lan:8080', named), true);
  assert.equal(hostAllowed('localhost:8080', named), false);
  const wildcard = hostRule('0.0.0.0', 8080);
  assert.equal(hostAllowed('localhost:8080', wildcard), true);
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === 'IPv4');
  if (lan) assert.equal(hostAllowed(`${lan.address}:8080`, wildcard), true, lan.address);
  assert.equal(hostAllowed('rebind.attacker.example:8080', wildcard), false);
});

test('Origin: absent is fine (curl), this server is fine, anything else is refused', () => {
  const rule = hostRule('127.0.0.1', 7860);
  assert.equal(originAllowed(undefined, rule), true);
  assert.equal(originAllowed('http://127.0.0.1:7860', rule), true);
  assert.equal(originAllowed('http://localhost:7860', rule), true);
  for (const bad of ['null', 'http://evil.example', 'https://127.0.0.1:7860', 'http://127.0.0.1:3000', 'file://']) {
    assert.equal(originAllowed(bad, rule), false, bad);
  }
});

test('loopback addresses are recognised', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '192.168.1.2', 'example.com', '::']) assert.equal(isLoopbackHost(h), false, h);
});
