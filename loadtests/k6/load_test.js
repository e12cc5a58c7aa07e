// k6 load test for users who have k6 (it cannot run on our build machines):
//   CIC_BASE_URL=https://cic.example.com CIC_KEYS=cic_a…,cic_b… CIC_MODEL=cic/sim-echo-1 k6 run loadtests/k6/load_test.js
// The same scenario as loadtests/load-harness.ts: 1,000 req/s open loop, half streamed, over several keys.
import http from 'k6/http';
import { check } from 'k6';
import { Trend, Rate } from 'k6/metrics';

const BASE = __ENV.CIC_BASE_URL || 'http://127.0.0.1:4000';
const KEYS = (__ENV.CIC_KEYS || '').split(',').filter(Boolean);
const MODEL = __ENV.CIC_MODEL || 'cic/sim-echo-1';
const RATE = Number(__ENV.CIC_RATE || 1000);

if (KEYS.length === 0) throw new Error('set CIC_KEYS to a comma-separated list of API keys');

const ttft = new Trend('cic_ttft', true);
const failed = new Rate('cic_failed');

export const options = {
  scenarios: {
    mixed: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: __ENV.CIC_DURATION || '2m',
      preAllocatedVUs: 500,
      maxVUs: 2000,
    },
  },
  thresholds: {
    cic_failed: ['rate<0.01'],
    cic_ttft: ['p(50)<200', 'p(99)<1000'],
    http_req_failed: ['rate<0.01'],
  },
};

export default function () {
  const key = KEYS[(__VU + __ITER) % KEYS.length];
  const stream = __ITER % 2 === 0;
  const res = http.post(
    `${BASE}/v1/chat/completions`,
    JSON.stringify({
      model: MODEL,
      stream,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'Tell me a short story about a lighthouse keeper and a storm at sea.' }],
    }),
    { headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, timeout: '60s' },
  );
  // Time to first byte: for a stream, the first token's chunk.
  ttft.add(res.timings.waiting);
  const ok = check(res, {
    'status 200': (r) => r.status === 200,
    'no error event': (r) => !stream || !String(r.body).includes('"error"'),
  });
  failed.add(!ok);
}
