// k6/http's stand-in (run.mjs): a blocking request through curl, answering what k6.js
// reads of a k6 response (status, headers by canonical name, json()); each request is
// also kept as an `http_reqs` sample with its tags and status.
import { execFileSync } from 'node:child_process';
import { samples } from './metrics.mjs';

function canonical(name) {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('-');
}

function request(method, url, body, params = {}) {
  const args = ['-sS', '-i', '--max-time', '30', '-X', method];
  for (const [name, value] of Object.entries(params.headers || {})) {
    args.push('-H', `${name}: ${value}`);
  }
  if (body !== null && body !== undefined) {
    args.push('--data-binary', body);
  }
  args.push(url);
  const raw = execFileSync('curl', args, { encoding: 'utf8' });
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).split('\r\n');
  const text = raw.slice(split + 4);
  const status = Number(head[0].split(' ')[1]);
  const headers = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers[canonical(line.slice(0, colon).trim())] = line.slice(colon + 1).trim();
  }
  samples.push({ metric: 'http_reqs', value: 1, tags: { ...(params.tags || {}), status: String(status) } });
  return { status, headers, body: text, json: () => JSON.parse(text) };
}

function expectedStatuses(...statuses) {
  return { expected: statuses };
}

export default { request, expectedStatuses };
