// Exercise a server with the node-redis and ioredis client libraries, both
// with their default connection settings: each opens with HELLO 3 pipelined
// with CLIENT SETINFO (whose errors they ignore); ioredis then runs its INFO
// ready check.  ioredis is also run once with protocol 2 (no HELLO).
//
// Usage: node clients.mjs <port> [host]
// Exits 0 when every check passed, 1 otherwise.

import { createClient } from 'redis';
import Redis from 'ioredis';
import { inspect } from 'node:util';
import { target, check, checkEq, expectError, runCases } from './harness.mjs';

const { port, host } = target('clients.mjs');

async function nodeRedis() {
  const client = createClient({
    url: `redis://${host}:${port}`,
    socket: { reconnectStrategy: false, connectTimeout: 10000 },
  });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  await client.connect();
  const p = 'nr:';

  const hello = await client.hello();
  checkEq(hello.proto, 3, 'node-redis HELLO proto (default RESP3)');
  checkEq(hello.server, 'redis', 'node-redis HELLO server');
  check(typeof hello.version === 'string' && /^\d+\.\d+\.\d+$/.test(hello.version),
    `node-redis HELLO version ${inspect(hello.version)}`);
  check(typeof hello.id === 'number', 'node-redis HELLO id is a number');
  checkEq(hello.mode, 'standalone', 'node-redis HELLO mode');
  checkEq(hello.role, 'master', 'node-redis HELLO role');
  checkEq(hello.modules, [], 'node-redis HELLO modules');

  checkEq(await client.set(`${p}a`, 'hello'), 'OK', 'node-redis SET');
  checkEq(await client.get(`${p}a`), 'hello', 'node-redis GET');
  checkEq(await client.get(`${p}missing`), null, 'node-redis GET missing');
  checkEq(await client.set(`${p}a`, 'x', { condition: 'NX' }), null, 'node-redis SET NX');
  checkEq(await client.set(`${p}utf`, 'ĉu vi parolas 🎉'), 'OK', 'node-redis SET utf8');
  checkEq(await client.get(`${p}utf`), 'ĉu vi parolas 🎉', 'node-redis GET utf8');
  checkEq(await client.incr(`${p}n`), 1, 'node-redis INCR');
  checkEq(await client.incrBy(`${p}n`, 41), 42, 'node-redis INCRBY');
  checkEq(await client.incrByFloat(`${p}f`, 1.25), '1.25', 'node-redis INCRBYFLOAT');
  await expectError(client.incr(`${p}a`), /not an integer/, 'node-redis INCR error');
  checkEq(await client.mGet([`${p}a`, `${p}n`, `${p}missing`]), ['hello', '42', null],
    'node-redis MGET');
  checkEq(await client.expire(`${p}a`, 100000), 1, 'node-redis EXPIRE');
  const ttl = await client.ttl(`${p}a`);
  check(ttl > 99000 && ttl <= 100000, `node-redis TTL ${ttl}`);
  checkEq(await client.ttl(`${p}n`), -1, 'node-redis TTL no expiry');
  checkEq(await client.ttl(`${p}missing`), -2, 'node-redis TTL missing');
  checkEq(await client.set(`${p}e`, 'v', { expiration: { type: 'EX', value: 100000 } }), 'OK',
    'node-redis SET EX');
  const pttl = await client.pTTL(`${p}e`);
  check(pttl > 99000000 && pttl <= 100000000, `node-redis PTTL ${pttl}`);

  for (let i = 0; i < 120; i++) {
    await client.set(`${p}scan:${i}`, String(i));
  }
  const seen = new Set();
  for await (const keys of client.scanIterator({ MATCH: `${p}scan:*`, COUNT: 10 })) {
    for (const k of keys) seen.add(k);
  }
  checkEq(seen.size, 120, 'node-redis SCAN iterator key count');

  checkEq(await client.clientSetName('node-redis-test'), 'OK', 'node-redis CLIENT SETNAME');
  checkEq(await client.clientGetName(), 'node-redis-test', 'node-redis CLIENT GETNAME');
  const id = await client.clientId();
  checkEq(id, hello.id, 'node-redis CLIENT ID equals HELLO id');
  checkEq(await client.sendCommand(['ECHO', 'raw']), 'raw', 'node-redis sendCommand ECHO');
  checkEq(await client.exists([`${p}a`, `${p}n`, `${p}missing`]), 2, 'node-redis EXISTS');
  checkEq(await client.type(`${p}a`), 'string', 'node-redis TYPE');

  // Pipelined commands (auto-pipelining of concurrent calls).
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) =>
    client.incr(`${p}pipe`)));
  checkEq(many[199], 200, 'node-redis concurrent INCR');

  const scanKeys = [...seen];
  const deleted = await client.del([`${p}a`, `${p}n`, `${p}f`, `${p}e`, `${p}utf`,
    `${p}pipe`, ...scanKeys]);
  checkEq(deleted, 126, 'node-redis DEL');
  checkEq(errors.length, 0, `node-redis error events ${inspect(errors)}`);
  await client.close();
}

async function ioredis(protocol) {
  const options = {
    port, host, lazyConnect: true, maxRetriesPerRequest: 1,
    retryStrategy: () => null, connectTimeout: 10000,
  };
  if (protocol) options.protocol = protocol;
  const client = new Redis(options);
  const errors = [];
  client.on('error', (e) => errors.push(e));
  await client.connect();
  const p = `io${protocol || ''}:`;
  const expectProto = protocol || 3;

  checkEq(await client.ping(), 'PONG', 'ioredis PING');
  checkEq(await client.set(`${p}a`, 'hello'), 'OK', 'ioredis SET');
  checkEq(await client.get(`${p}a`), 'hello', 'ioredis GET');
  checkEq(await client.get(`${p}missing`), null, 'ioredis GET missing');
  checkEq(await client.set(`${p}a`, 'x', 'NX'), null, 'ioredis SET NX');
  checkEq(await client.set(`${p}b`, 'v', 'EX', 100000, 'GET'), null, 'ioredis SET EX GET');
  checkEq(await client.incr(`${p}n`), 1, 'ioredis INCR');
  checkEq(await client.incrby(`${p}n`, 41), 42, 'ioredis INCRBY');
  checkEq(await client.decr(`${p}n`), 41, 'ioredis DECR');
  await expectError(client.incr(`${p}a`), /not an integer/, 'ioredis INCR error');
  checkEq(await client.mget(`${p}a`, `${p}n`, `${p}missing`), ['hello', '41', null],
    'ioredis MGET');
  checkEq(await client.expire(`${p}a`, 100000), 1, 'ioredis EXPIRE');
  const ttl = await client.ttl(`${p}a`);
  check(ttl > 99000 && ttl <= 100000, `ioredis TTL ${ttl}`);

  const buf = Buffer.from([0, 1, 2, 13, 10, 255, 254, 0]);
  checkEq(await client.set(Buffer.from(`${p}bin\x00key`), buf), 'OK', 'ioredis SET binary');
  checkEq(await client.getBuffer(Buffer.from(`${p}bin\x00key`)), buf, 'ioredis GET binary');

  for (let i = 0; i < 120; i++) {
    await client.set(`${p}scan:${i}`, String(i));
  }
  const seen = new Set();
  await new Promise((resolve, reject) => {
    const stream = client.scanStream({ match: `${p}scan:*`, count: 10 });
    stream.on('data', (keys) => keys.forEach((k) => seen.add(k)));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  checkEq(seen.size, 120, 'ioredis scanStream key count');

  const pipe = client.pipeline();
  for (let i = 0; i < 100; i++) pipe.incr(`${p}pipe`);
  pipe.get(`${p}pipe`);
  const res = await pipe.exec();
  checkEq(res[100], [null, '100'], 'ioredis pipeline');

  // HELLO without arguments reports the protocol negotiated at connect time.
  const hello = await client.call('HELLO');
  check(Array.isArray(hello) && hello[0] === 'server' && hello[1] === 'redis',
    `ioredis HELLO ${inspect(hello)}`);
  const helloMap = {};
  for (let i = 0; i + 1 < hello.length; i += 2) helloMap[hello[i]] = hello[i + 1];
  checkEq(helloMap.proto, expectProto, 'ioredis negotiated protocol');
  checkEq(await client.client('SETNAME', 'ioredis-test'), 'OK', 'ioredis CLIENT SETNAME');
  checkEq(await client.client('GETNAME'), 'ioredis-test', 'ioredis CLIENT GETNAME');
  check(Number.isInteger(await client.client('ID')), 'ioredis CLIENT ID');
  const list = await client.client('LIST');
  check(typeof list === 'string' && list.includes('name=ioredis-test'),
    'ioredis CLIENT LIST shows the name');
  const info = await client.info();
  check(/redis_version:\d+\.\d+\.\d+/.test(info), 'ioredis INFO redis_version');
  check(/# Keyspace/.test(info), 'ioredis INFO keyspace section');

  const deleted = await client.del(`${p}a`, `${p}b`, `${p}n`, `${p}pipe`,
    Buffer.from(`${p}bin\x00key`), ...seen);
  checkEq(deleted, 125, 'ioredis DEL');
  checkEq(await client.dbsize(), 0, 'ioredis DBSIZE after cleanup');
  checkEq(errors.length, 0, `ioredis error events ${inspect(errors)}`);
  await client.quit();
}

async function main() {
  await runCases([['node-redis', nodeRedis],
    ['ioredis (default, RESP3)', () => ioredis(undefined)],
    ['ioredis (protocol 2)', () => ioredis(2)]]);
}

main();
