// Buyers rushing one event, for k6, as an OPEN model (docs/load-testing.md):
//
//   LOADTEST_RUN=run.json LOADTEST_RATE=500 LOADTEST_DURATION=60s k6 run loadtest/k6.js
//
// The same logic as locustfile.py, line for line, except that purchases start at a
// constant arrival rate (LOADTEST_RATE per second) whether or not earlier ones have been
// answered: a slow server shows as latency and as more VUs in flight, not as fewer
// requests (no coordinated omission). Reads the run file written by
// `flask loadtest prepare` (LOADTEST_RUN, default run.json):
//
// - every purchase carries an Idempotency-Key; a 429 or 503 is retried with the SAME key
//   after the Retry-After it names (at most LOADTEST_MAX_RETRIES times);
// - 201 and 409 (sold out, limit) are expected answers; anything else counts as failed;
// - k6 cannot write files: with LOADTEST_LOG_ORDERS=1 it logs `ORDER <id>` for each 201
//   (k6 run ... 2>&1 | sed -n 's/.*ORDER \([0-9a-f-]*\).*/\1/p' >> run.orders) for
//   `flask loadtest verify`;
// - the end-of-test summary shows `purchase_status` counts by status (retries included),
//   http_req_failed (any other status) and http_req_duration percentiles.
//
// Environment: LOADTEST_RUN, LOADTEST_RATE (default 200), LOADTEST_DURATION (60s),
// LOADTEST_VUS (pre-allocated, default 200), LOADTEST_MAX_VUS (default 2000),
// LOADTEST_MAX_RETRIES (5), LOADTEST_LOG_ORDERS.
import http from 'k6/http';
import { sleep } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';

const RUN_PATH = __ENV.LOADTEST_RUN || 'run.json';
const RUN = JSON.parse(open(RUN_PATH));
const API = RUN.api_prefix || '/api/v1';
const EVENT_ID = RUN.event.id;
const QUANTITY = Number(RUN.quantity || 1);
const TOKENS = RUN.users.map((user) => user.token);
const MAX_RETRIES = Number(__ENV.LOADTEST_MAX_RETRIES || 5);
const RETRYABLE = [429, 503];
const LOG_ORDERS = __ENV.LOADTEST_LOG_ORDERS === '1';

const statuses = new Counter('purchase_status');

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
  // A threshold makes k6 show the sub-metric in its summary: one line per status. Any
  // other status shows in http_req_failed (it is not an expected status).
  thresholds: {
    'purchase_status{status:201}': ['count>=0'],
    'purchase_status{status:409}': ['count>=0'],
    'purchase_status{status:429}': ['count>=0'],
    'purchase_status{status:503}': ['count>=0'],
    'http_req_duration{name:POST /orders}': ['p(99)>=0'],
  },
};

function retryAfter(response) {
  const seconds = Number(response.headers['Retry-After'] || '1');
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), 30) : 1;
}

export default function () {
  const token = TOKENS[exec.scenario.iterationInTest % TOKENS.length];
  const body = JSON.stringify({ event_id: EVENT_ID, quantity: QUANTITY });
  const headers = {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
    'Idempotency-Key': `${exec.vu.idInTest}-${exec.scenario.iterationInTest}-${Date.now()}`,
  };
  for (let attempt = 0; attempt <= MAX_RETRIES; attempt += 1) {
    const response = http.post(`${RUN.base_url}${API}/orders`, body, {
      headers,
      tags: { name: 'POST /orders' },
      responseCallback: http.expectedStatuses(201, 409, 429, 503),
    });
    const status = response.status;
    statuses.add(1, { status: String(status) });
    if (status === 201) {
      if (LOG_ORDERS) {
        console.log(`ORDER ${response.json('id')}`);
      }
      return;
    }
    if (status === 409) {
      return; // sold out (or the event closed): an answer, not an error
    }
    if (RETRYABLE.includes(status) && attempt < MAX_RETRIES) {
      sleep(retryAfter(response)); // asked to come back later: do so, with the same key
    } else {
      return;
    }
  }
}
