// Node.js: files, crypto on the thread pool, TCP and HTTP on loopback, a child process,
// zlib, and a worker thread. Prints one line when everything checked out.
'use strict';
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const http = require('http');
const crypto = require('crypto');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const { Worker } = require('worker_threads');

async function main() {
  const data = crypto.randomBytes(1 << 20);
  fs.mkdirSync('/tmp/node', { recursive: true });
  await fs.promises.writeFile('/tmp/node/data', data);
  assert((await fs.promises.readFile('/tmp/node/data')).equals(data));
  const keys = await Promise.all([1, 2, 3, 4].map((i) => new Promise((ok, ko) =>
    crypto.pbkdf2('secret', 'salt' + i, 20000, 32, 'sha256', (e, k) => (e ? ko(e) : ok(k))))));
  assert.strictEqual(new Set(keys.map((k) => k.toString('hex'))).size, 4);
  assert(zlib.gunzipSync(zlib.gzipSync(data)).equals(data));

  const echo = net.createServer((s) => s.pipe(s));
  await new Promise((ok) => echo.listen(0, '127.0.0.1', ok));
  const got = await new Promise((ok, ko) => {
    const c = net.connect(echo.address().port, '127.0.0.1', () => c.end('ping'));
    let buf = '';
    c.on('data', (d) => (buf += d)).on('end', () => ok(buf)).on('error', ko);
  });
  assert.strictEqual(got, 'ping');
  echo.close();

  const digest = crypto.createHash('sha256').update(data).digest('hex');
  const web = http.createServer((req, res) => res.end(crypto.createHash('sha256').update(data).digest('hex')));
  await new Promise((ok) => web.listen(0, '::1', ok));
  const bodies = await Promise.all(Array.from({ length: 20 }, () => new Promise((ok, ko) => {
    http.get({ host: '::1', port: web.address().port, path: '/' }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d)).on('end', () => ok(b));
    }).on('error', ko);
  })));
  assert(bodies.every((b) => b === digest));
  web.close();

  assert.strictEqual(execFileSync('/bin/echo', ['child']).toString(), 'child\n');
  const sum = await new Promise((ok, ko) => {
    const w = new Worker('const { parentPort } = require("worker_threads"); let s = 0; for (let i = 0; i < 1e6; i++) s += i; parentPort.postMessage(s);', { eval: true });
    w.on('message', ok).on('error', ko);
  });
  assert.strictEqual(sum, 499999500000);
  console.log('node: ok ' + process.version);
}
main().catch((e) => { console.error('node: FAILED: ' + e.stack); process.exit(1); });
