// Buyers rushing one event, for k6, as an OPEN model (docs/load-testing.md):
//
//   LOADTEST_RUN=run.json LOADTEST_RATE=500 LOADTEST_DURATION=60s k6 run loadtest/k6.js
//
// The same logic as locustfile.py, line for line with the same names (change both
// together), except that journeys start at a constant arrival rate (LOADTEST_RATE per
// second) whether or not earlier ones have been answered: a slow server shows as latency
// and as more VUs in flight, not as fewer requests (no coordinated omission). Reads the
// run file written by `flask loadtest prepare` (LOADTEST_RUN, default run.json). Each VU
// is one prepared buyer (VU n uses the run's account n, round robin: prepare at least
// LOADTEST_MAX_VUS buyers so that no two journeys in flight share an account), and each
// iteration is one buyer's journey:
//
// - when the run's event has a waiting room (`prepare --queue ...`): join it (POST
//   .../events/{event_id}/queue), poll it (GET) sleeping the Retry-After each answer names
//   between polls until the entry is `admitted`, then buy with its pass as `Queue-Pass`;
//   an entry that expired (or was already used) means joining again, at the back;
// - the purchase carries an Idempotency-Key; every request answered 429 or 503 is retried
//   after the Retry-After it names (at most LOADTEST_MAX_RETRIES times), the purchase with
//   the SAME key and pass, so a retry never buys twice;
// - 201 ends the journey; a 409 (sold out, over the per-user limit, closed) or an entry
//   that turns `sold_out` stops this VU's buyer for the rest of the run (its later
//   iterations return at once: locust's StopUser). Anything else is a failure;
// - k6 cannot write files: with LOADTEST_LOG_ORDERS=1 it logs `ORDER <id>` for each 201
//   (k6 run ... 2>&1 | sed -n 's/.*ORDER \([0-9a-f-]*\).*/\1/p' >> run.orders) for
//   `flask loadtest verify`;
// - the end-of-test summary shows, for each route (tag `step`: join, poll, purchase),
//   `statuses` counts by status (retries included) and http_req_duration percentiles,
//   plus `queue_wait` (join to pass); http_req_failed counts any unexpected status.
//
// k6 cannot be installed on our machines: tests/test_loadtest.py syntax-checks this file
// and runs its logic under node with stand-ins for the k6 modules (tests/support/k6node/).
//
// Environment: LOADTEST_RUN, LOADTEST_RATE (journeys per second, default 200),
// LOADTEST_DURATION (60s), LOADTEST_VUS (pre-allocated, default 200), LOADTEST_MAX_VUS
// (default 2000), LOADTEST_THINK_SECONDS (0), LOADTEST_MAX_RETRIES (5), LOADTEST_LOG_ORDERS.
import http from 'k6/http';
import { sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';

const RUN_PATH = __ENV.LOADTEST_RUN || 'run.json';
const RUN = JSON.parse(open(RUN_PATH));
const API = RUN.api_prefix || '/api/v1';
const EVENT_ID = RUN.event.id;
const QUEUED = Boolean(RUN.event.queue); // the event has a waiting room
const QUANTITY = Number(RUN.quantity || 1);
const TOKENS = RUN.users.map((user) => user.token);
const THINK = Number(__ENV.LOADTEST_THINK_SECONDS || 0);
const MAX_RETRIES = Number(__ENV.LOADTEST_MAX_RETRIES || 5);
const RETRYABLE = [429, 503];
const LOG_ORDERS = __ENV.LOADTEST_LOG_ORDERS === '1';

// Requests are named by route template, as the server's metrics name them.
const JOIN = 'POST /api/v1/events/{event_id}/queue';
const POLL = 'GET /api/v1/events/{event_id}/queue';
const PURCHASE = 'POST /api/v1/orders';
const STEP = { [JOIN]: 'join', [POLL]: 'poll', [PURCHASE]: 'purchase' }; // short tags for thresholds
// The statuses each route may answer in an on-sale; any other is a failure.
const EXPECTED = { [JOIN]: [200, 201, 409], [POLL]: [200], [PURCHASE]: [201, 409] };

const statuses = new Counter('statuses');
const queueWait = new Trend('queue_wait', true); // the time from join to admitted

class StopUser extends Error {} // locust's StopUser: this buyer is done for the run
let stopped = false; // per VU (each VU has its own copy of this module)

export const options = {
  scenarios: {
    onsale: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.LOADTEST_RATE || 200),
      timeUnit: '1s',
      duration: __ENV.LOADTEST_DURATION || '60s',
      preAllocatedVUs: Number(__ENV.LOADTEST_VUS || 200),
      maxVUs: Number(__ENV.LOADTEST_MAX_VUS || 2000),
    },
  },
  summaryTrendStats: ['avg', 'p(50)', 'p(90)', 'p(99)', 'max'],
  // A threshold makes k6 show the sub-metric in its summary: one line per route and
  // status, and the latency of each route. Any other status shows in http_req_failed.
  thresholds: {
    'statuses{step:join,status:200}': ['count>=0'],
    'statuses{step:join,status:201}': ['count>=0'],
    'statuses{step:join,status:409}': ['count>=0'],
    'statuses{step:poll,status:200}': ['count>=0'],
    'statuses{step:purchase,status:201}': ['count>=0'],
    'statuses{step:purchase,status:409}': ['count>=0'],
    'statuses{status:429}': ['count>=0'],
    'statuses{status:503}': ['count>=0'],
    'http_req_duration{step:join}': ['p(99)>=0'],
    'http_req_duration{step:poll}': ['p(99)>=0'],
    'http_req_duration{step:purchase}': ['p(99)>=0'],
    queue_wait: ['p(99)>=0'],
  },
};

function retryAfter(response) {
  const seconds = Number(response.headers['Retry-After'] || '1');
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), 60) : 1;
}

function json(response) {
  try {
    return response.json();
  } catch (error) {
    return null;
  }
}

// One request of `route`, retried after its Retry-After on 429/503 with the same headers
// (so the same Idempotency-Key and Queue-Pass). Returns [status, JSON body or null,
// seconds the answer's Retry-After names]; counts every status. (locustfile.py: call)
function call(method, path, route, headers, body = null) {
  for (let attempt = 0; attempt <= MAX_RETRIES; attempt += 1) {
    const payload = body === null ? null : JSON.stringify(body);
    const response = http.request(method, `${RUN.base_url}${path}`, payload, {
      headers,
      tags: { name: route, step: STEP[route] },
      responseCallback: http.expectedStatuses(...EXPECTED[route], ...RETRYABLE),
    });
    const status = response.status;
    statuses.add(1, { step: STEP[route], status: String(status) });
    const wait = retryAfter(response);
    if (EXPECTED[route].includes(status)) {
      return [status, json(response), wait]; // an on-sale's answer (a 409 included), not an error
    }
    if (!(RETRYABLE.includes(status) && attempt < MAX_RETRIES)) {
      return [status, null, wait];
    }
    sleep(wait); // asked to come back later: do so, with the same key
  }
  throw new Error('unreachable');
}

// Join the waiting room and poll it, honouring Retry-After, until admitted: the pass, or
// null to start the journey again. Stops this VU's buyer once it is sold out.
// (locustfile.py: wait_for_pass)
function waitForPass(headers) {
  const path = `${API}/events/${EVENT_ID}/queue`;
  const joined = Date.now();
  let [status, entry, wait] = call('POST', path, JOIN, headers);
  for (;;) {
    if (status === 409) {
      throw new StopUser(); // the event closed (or has no waiting room): nothing to wait for
    }
    if (entry === null) {
      return null; // a failure, already counted
    }
    if (entry.status === 'admitted') {
      queueWait.add(Date.now() - joined);
      return entry.pass;
    }
    if (entry.status === 'sold_out') {
      throw new StopUser(); // nothing left for anyone waiting: this buyer is done
    }
    if (entry.status !== 'waiting') {
      return null; // expired, or already used: join again, at the back
    }
    sleep(wait); // waiting: poll when the server says it is worth it
    [status, entry, wait] = call('GET', path, POLL, headers);
  }
}

// (locustfile.py: journey)
function journey(headers) {
  let queuePass = null;
  if (QUEUED) {
    queuePass = waitForPass(headers);
    if (queuePass === null) {
      return;
    }
  }
  const body = { event_id: EVENT_ID, quantity: QUANTITY };
  const key = `${exec.vu.idInTest}-${exec.scenario.iterationInTest}-${Date.now()}`;
  const purchaseHeaders = { ...headers, 'Idempotency-Key': key };
  if (queuePass !== null) {
    purchaseHeaders['Queue-Pass'] = queuePass;
  }
  const [status, order] = call('POST', `${API}/orders`, PURCHASE, purchaseHeaders, body);
  if (status === 201) {
    if (LOG_ORDERS) {
      console.log(`ORDER ${order.id}`);
    }
  } else if (status === 409) {
    throw new StopUser(); // sold out, over the per-user limit or closed: this buyer is done
  }
}

// One arrival: the VU's buyer starts a journey (locustfile.py: on_start, the task, wait_time).
export default function () {
  if (stopped) {
    return;
  }
  const token = TOKENS[(exec.vu.idInTest - 1) % TOKENS.length];
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  try {
    journey(headers);
  } catch (error) {
    if (!(error instanceof StopUser)) {
      throw error;
    }
    stopped = true;
  }
  if (THINK > 0) {
    sleep(THINK);
  }
}
