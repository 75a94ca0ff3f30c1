// What the client scripts share: the target from the command line, checks
// that count and print their failures, and the run of the cases (each one
// client library configuration) with a time limit, ending the process with
// 0 when every check passed, 1 otherwise.

import { isDeepStrictEqual, inspect } from 'node:util';

let failures = 0;
let checks = 0;

// Port and host from the command line (`node <script> <port> [host]`).
export function target(script) {
  const port = Number(process.argv[2]);
  const host = process.argv[3] || '127.0.0.1';
  if (!Number.isInteger(port) || port <= 0) {
    console.error(`usage: node ${script} <port> [host]`);
    process.exit(2);
  }
  return { port, host };
}

export function check(cond, what) {
  checks++;
  if (!cond) {
    failures++;
    console.log(`FAIL ${what}`);
  }
}

export function checkEq(actual, expected, what) {
  checks++;
  if (!isDeepStrictEqual(actual, expected)) {
    failures++;
    console.log(`FAIL ${what}: got ${inspect(actual)}, want ${inspect(expected)}`);
  }
}

export async function expectError(promise, pattern, what) {
  checks++;
  try {
    const r = await promise;
    failures++;
    console.log(`FAIL ${what}: expected an error, got ${inspect(r)}`);
  } catch (e) {
    if (!pattern.test(String(e && e.message))) {
      failures++;
      console.log(`FAIL ${what}: error ${inspect(e && e.message)} does not match ${pattern}`);
    }
  }
}

export function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// Run each [name, async fn] case within 30 s, print PASS or FAIL per case
// and the totals, and exit.
export async function runCases(cases) {
  for (const [name, fn] of cases) {
    const before = failures;
    try {
      await withTimeout(fn(), 30000, name);
    } catch (e) {
      failures++;
      console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    }
    console.log(`${failures === before ? 'PASS' : 'FAIL'} ${name}`);
  }
  console.log(`${checks} checks, ${failures} failures`);
  process.exit(failures ? 1 : 0);
}
