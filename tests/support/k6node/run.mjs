// loadtest/k6.js's default function run by node as ONE k6 VU, for the tests: k6 itself
// cannot be installed on our machines. The k6 modules it imports are stand-ins (the other
// files here), good for exactly what k6.js uses: blocking HTTP (curl), sleep, the VU's and
// iteration's ids, and metrics collected in memory. The test copies k6.js to a .mjs file
// with its `k6/...` imports pointing here.
//
//   LOADTEST_RUN=run.json node run.mjs <copy of k6.js> <VU id> <seconds>
//
// Runs iterations until <seconds> have passed, starting one at most every 100 ms (a VU
// of a constant-arrival-rate scenario of 10/s that is never short of VUs), then prints
// `METRICS {json}`: every metric sample.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import execution from './execution.mjs';
import { sleep } from './k6.mjs';
import { samples } from './metrics.mjs';

const ARRIVAL_MS = 100;

globalThis.__ENV = process.env;
globalThis.open = (path) => readFileSync(path, 'utf8');

const [script, vu, seconds] = process.argv.slice(2);
execution.vu.idInTest = Number(vu);
const k6 = await import(pathToFileURL(script).href);
const deadline = Date.now() + Number(seconds) * 1000;
let iterations = 0;
while (Date.now() < deadline) {
  const started = Date.now();
  execution.scenario.iterationInTest = Number(vu) * 1000000 + iterations;
  k6.default();
  iterations += 1;
  sleep(Math.max(0, ARRIVAL_MS - (Date.now() - started)) / 1000);
}
console.log(`METRICS ${JSON.stringify({ iterations, samples })}`);
