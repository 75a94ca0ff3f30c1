// Hashes and sets through node-redis and ioredis at their defaults (RESP3:
// HGETALL is a map, SMEMBERS a set), and ioredis once with protocol 2.
// Every check is on the decoded value.  The same script passes against the
// reference redis-server.
//
// Usage: node containers.mjs <port> [host]
// Exits 0 when every check passed, 1 otherwise.

import { createClient } from 'redis';
import Redis from 'ioredis';
import { inspect } from 'node:util';
import { target, check, checkEq, expectError, runCases } from './harness.mjs';

const { port, host } = target('containers.mjs');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A plain copy of an object (node-redis maps may have a null prototype).
const plain = (o) => (o && typeof o === 'object' && !Array.isArray(o) ? { ...o } : o);
const sorted = (a) => [...a].sort();

function bigHash(n) {
  const h = {};
  for (let i = 0; i < n; i++) h[`field:${i}`] = `value-${i * 7}`;
  return h;
}

async function nodeRedis() {
  const client = createClient({
    url: `redis://${host}:${port}`,
    socket: { reconnectStrategy: false, connectTimeout: 10000 },
  });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  await client.connect();
  const p = 'nrc:';
  await client.configSet({ 'hash-max-listpack-entries': '128',
    'hash-max-listpack-value': '64', 'set-max-intset-entries': '512' });

  // Hashes.
  const h = `${p}user`;
  checkEq(await client.hSet(h, { name: 'Ada', lang: 'en', visits: '0', score: '1.5' }), 4,
    'node-redis HSET object');
  checkEq(await client.hSet(h, 'city', 'London'), 1, 'node-redis HSET field value');
  checkEq(plain(await client.hGetAll(h)),
    { name: 'Ada', lang: 'en', visits: '0', score: '1.5', city: 'London' },
    'node-redis HGETALL (RESP3 map)');
  checkEq(await client.hKeys(h), ['name', 'lang', 'visits', 'score', 'city'],
    'node-redis HKEYS (listpack order)');
  checkEq(await client.hGet(h, 'name'), 'Ada', 'node-redis HGET');
  checkEq(await client.hGet(h, 'nosuch'), null, 'node-redis HGET missing');
  checkEq(await client.hmGet(h, ['name', 'nosuch']), ['Ada', null], 'node-redis HMGET');
  checkEq(await client.hIncrBy(h, 'visits', 5), 5, 'node-redis HINCRBY');
  checkEq(await client.hIncrByFloat(h, 'score', 0.25), '1.75', 'node-redis HINCRBYFLOAT');
  checkEq(await client.hLen(h), 5, 'node-redis HLEN');
  checkEq(await client.hExists(h, 'lang'), 1, 'node-redis HEXISTS');
  checkEq(await client.hSetNX(h, 'lang', 'fr'), 0, 'node-redis HSETNX existing');
  checkEq(await client.hDel(h, ['lang', 'nosuch']), 1, 'node-redis HDEL');
  await expectError(client.hIncrBy(h, 'name', 1), /hash value is not an integer/,
    'node-redis HINCRBY on text');
  await expectError(client.get(h), /WRONGTYPE/, 'node-redis GET on a hash');
  checkEq(await client.type(h), 'hash', 'node-redis TYPE hash');
  checkEq(plain(await client.hGetAll(`${p}nokey`)), {}, 'node-redis HGETALL missing');

  // A big hash: HSCAN iterator and HGETALL.
  const bh = `${p}big`;
  const want = bigHash(1200);
  checkEq(await client.hSet(bh, want), 1200, 'node-redis HSET 1200 fields');
  checkEq(await client.objectEncoding(bh), 'hashtable', 'node-redis big hash encoding');
  checkEq(plain(await client.hGetAll(bh)), want, 'node-redis HGETALL big');
  const got = {};
  for await (const entries of client.hScanIterator(bh, { COUNT: 50 })) {
    for (const { field, value } of entries) got[field] = value;
  }
  checkEq(got, want, 'node-redis hScanIterator');

  // Sets.
  const s = `${p}tags`;
  checkEq(await client.sAdd(s, ['red', 'green', 'blue']), 3, 'node-redis SADD');
  checkEq(sorted(await client.sMembers(s)), ['blue', 'green', 'red'],
    'node-redis SMEMBERS (RESP3 set)');
  checkEq(await client.sIsMember(s, 'red'), 1, 'node-redis SISMEMBER');
  checkEq(await client.smIsMember(s, ['red', 'pink']), [1, 0], 'node-redis SMISMEMBER');
  checkEq(await client.sCard(s), 3, 'node-redis SCARD');
  const n = `${p}nums`;
  checkEq(await client.sAdd(n, ['3', '1', '2', '-7']), 4, 'node-redis SADD ints');
  checkEq(await client.sMembers(n), ['-7', '1', '2', '3'], 'node-redis SMEMBERS intset order');
  checkEq(await client.objectEncoding(n), 'intset', 'node-redis intset encoding');
  await client.sAdd(`${p}other`, ['green', 'blue', 'x']);
  checkEq(sorted(await client.sInter([s, `${p}other`])), ['blue', 'green'], 'node-redis SINTER');
  checkEq(sorted(await client.sUnion([s, `${p}other`])), ['blue', 'green', 'red', 'x'],
    'node-redis SUNION');
  checkEq(await client.sDiff([s, `${p}other`]), ['red'], 'node-redis SDIFF');
  checkEq(await client.sInterCard([s, `${p}other`]), 2, 'node-redis SINTERCARD');
  const bs = `${p}bigset`;
  const members = Array.from({ length: 1500 }, (_, i) => `m${i}`);
  checkEq(await client.sAdd(bs, members), 1500, 'node-redis SADD 1500');
  const seen = new Set();
  for await (const ms of client.sScanIterator(bs, { COUNT: 100 })) {
    for (const m of ms) seen.add(m);
  }
  checkEq(sorted(seen), sorted(members), 'node-redis sScanIterator');
  await expectError(client.sAdd(h, 'x'), /WRONGTYPE/, 'node-redis SADD on a hash');
  await expectError(client.hSet(s, 'f', 'v'), /WRONGTYPE/, 'node-redis HSET on a set');

  // Batches: a multi-command pipeline without MULTI.
  const res = await client.multi()
    .hSet(`${p}batch`, { a: '1', b: '2' })
    .hIncrBy(`${p}batch`, 'a', 10)
    .sAdd(`${p}bset`, ['x', 'y'])
    .sIsMember(`${p}bset`, 'y')
    .hGetAll(`${p}batch`)
    .execAsPipeline();
  checkEq(res.map(plain), [2, 11, 2, 1, { a: '11', b: '2' }], 'node-redis execAsPipeline');
  const concurrent = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    client.hIncrBy(`${p}batch`, 'c', 1).then(() => client.sAdd(`${p}bset`, String(i)))));
  checkEq(concurrent.reduce((a, b) => a + b, 0), 100, 'node-redis concurrent SADD');
  checkEq(await client.hGet(`${p}batch`, 'c'), '100', 'node-redis concurrent HINCRBY');

  // Expiry on a hash and a set.
  checkEq(await client.expire(h, 100000), 1, 'node-redis EXPIRE hash');
  const ttl = await client.ttl(h);
  check(ttl > 99000 && ttl <= 100000, `node-redis TTL of a hash ${ttl}`);
  await client.hSet(h, 'more', 'x');
  const ttl2 = await client.ttl(h);
  check(ttl2 > 99000 && ttl2 <= 100000, `node-redis TTL kept by HSET ${ttl2}`);
  checkEq(await client.pExpire(h, 100), 1, 'node-redis PEXPIRE hash');
  checkEq(await client.pExpire(s, 100), 1, 'node-redis PEXPIRE set');
  await sleep(300);
  checkEq(plain(await client.hGetAll(h)), {}, 'node-redis expired hash');
  checkEq(await client.sMembers(s), [], 'node-redis expired set');
  checkEq(await client.exists([h, s]), 0, 'node-redis expired keys gone');

  checkEq(await client.del([bh, n, `${p}other`, bs, `${p}batch`, `${p}bset`]), 6,
    'node-redis DEL');
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
  const p = `ioc${protocol || ''}:`;

  const h = `${p}user`;
  checkEq(await client.hset(h, { name: 'Ada', lang: 'en', visits: '0' }), 3,
    'ioredis HSET object');
  checkEq(await client.hset(h, 'score', '1.5', 'city', 'London'), 2, 'ioredis HSET pairs');
  checkEq(await client.hgetall(h),
    { name: 'Ada', lang: 'en', visits: '0', score: '1.5', city: 'London' }, 'ioredis HGETALL');
  checkEq(await client.hvals(h), ['Ada', 'en', '0', '1.5', 'London'], 'ioredis HVALS');
  checkEq(await client.hincrby(h, 'visits', 7), 7, 'ioredis HINCRBY');
  checkEq(await client.hincrbyfloat(h, 'score', '-0.5'), '1', 'ioredis HINCRBYFLOAT');
  checkEq(await client.hmget(h, 'visits', 'nosuch', 'score'), ['7', null, '1'], 'ioredis HMGET');
  checkEq(await client.hstrlen(h, 'city'), 6, 'ioredis HSTRLEN');
  await expectError(client.hincrbyfloat(h, 'name', 1), /hash value is not a float/,
    'ioredis HINCRBYFLOAT on text');
  await expectError(client.incr(h), /WRONGTYPE/, 'ioredis INCR on a hash');
  checkEq(await client.hgetall(`${p}nokey`), {}, 'ioredis HGETALL missing');

  const bin = Buffer.from(`${p}bin`);
  const bv = Buffer.from([0, 13, 10, 255, 0]);
  checkEq(await client.hset(bin, Buffer.from('f\x00'), bv, '', 'empty'), 2, 'ioredis HSET binary');
  checkEq(await client.hgetBuffer(bin, Buffer.from('f\x00')), bv, 'ioredis HGET binary');
  checkEq(await client.hget(bin, ''), 'empty', 'ioredis HGET empty field');

  const bh = `${p}big`;
  const want = bigHash(1000);
  checkEq(await client.hset(bh, want), 1000, 'ioredis HSET 1000 fields');
  checkEq(await client.hgetall(bh), want, 'ioredis HGETALL big');
  const got = {};
  await new Promise((resolve, reject) => {
    const stream = client.hscanStream(bh, { count: 50 });
    stream.on('data', (kv) => { for (let i = 0; i + 1 < kv.length; i += 2) got[kv[i]] = kv[i + 1]; });
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  checkEq(got, want, 'ioredis hscanStream');

  const s = `${p}tags`;
  checkEq(await client.sadd(s, 'red', 'green', 'blue'), 3, 'ioredis SADD');
  checkEq(sorted(await client.smembers(s)), ['blue', 'green', 'red'], 'ioredis SMEMBERS');
  checkEq(await client.sismember(s, 'green'), 1, 'ioredis SISMEMBER');
  checkEq(await client.smismember(s, 'green', 'pink', 'red'), [1, 0, 1], 'ioredis SMISMEMBER');
  await client.sadd(`${p}o`, 'red', 'x');
  checkEq(await client.sinter(s, `${p}o`), ['red'], 'ioredis SINTER');
  checkEq(await client.sinterstore(`${p}dst`, s, `${p}o`), 1, 'ioredis SINTERSTORE');
  checkEq(await client.smembers(`${p}dst`), ['red'], 'ioredis SINTERSTORE result');
  checkEq(await client.smove(s, `${p}dst`, 'blue'), 1, 'ioredis SMOVE');
  checkEq(sorted(await client.smembers(`${p}dst`)), ['blue', 'red'], 'ioredis after SMOVE');
  const popped = await client.spop(s);
  check(popped === 'green' || popped === 'red', `ioredis SPOP ${popped}`);
  const bs = `${p}bigset`;
  const members = Array.from({ length: 1000 }, (_, i) => String(i * 11));
  checkEq(await client.sadd(bs, ...members), 1000, 'ioredis SADD 1000 ints');
  checkEq(await client.object('ENCODING', bs), 'hashtable', 'ioredis 1000 ints pass the intset limit');
  const seen = new Set();
  await new Promise((resolve, reject) => {
    const stream = client.sscanStream(bs, { count: 64 });
    stream.on('data', (ms) => ms.forEach((m) => seen.add(m)));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  checkEq(sorted(seen), sorted(members), 'ioredis sscanStream');

  const pipe = client.pipeline();
  pipe.hset(`${p}pp`, 'a', '1');
  pipe.hincrby(`${p}pp`, 'a', 2);
  pipe.sadd(`${p}ps`, 'a', 'b');
  pipe.scard(`${p}ps`);
  pipe.hgetall(`${p}pp`);
  pipe.sadd(`${p}pp`, 'x');
  const res = await pipe.exec();
  checkEq(res.slice(0, 5), [[null, 1], [null, 3], [null, 2], [null, 2], [null, { a: '3' }]],
    'ioredis pipeline');
  check(res[5][0] && /WRONGTYPE/.test(res[5][0].message), 'ioredis WRONGTYPE in a pipeline');

  checkEq(await client.expire(`${p}ps`, 100000), 1, 'ioredis EXPIRE set');
  const ttl = await client.ttl(`${p}ps`);
  check(ttl > 99000 && ttl <= 100000, `ioredis TTL of a set ${ttl}`);
  checkEq(await client.pexpire(`${p}pp`, 100), 1, 'ioredis PEXPIRE hash');
  await sleep(300);
  checkEq(await client.hgetall(`${p}pp`), {}, 'ioredis expired hash');
  checkEq(await client.exists(`${p}pp`), 0, 'ioredis expired hash gone');

  const deleted = await client.del(h, bin, bh, s, `${p}o`, `${p}dst`, bs, `${p}ps`);
  checkEq(deleted, 8, 'ioredis DEL');
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
