import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../src/config.ts';
import { ConfigError } from '@cic/core/lib/env';
import { centsToMicros, createStripeClient } from '@cic/core/billing/stripe-client';

const valid = { DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('billing configuration', () => {
  it('defaults to manual mode with enforcement on', () => {
    const c = loadApiConfig(valid);
    expect([c.STRIPE_SECRET_KEY, c.STRIPE_WEBHOOK_SECRET, c.STRIPE_API_BASE]).toEqual([undefined, undefined, undefined]);
    expect(c).toMatchObject({
      CHECKOUT_MIN_CENTS: 500, CHECKOUT_MAX_CENTS: 100_000,
      PUBLIC_WEB_URL: 'http://127.0.0.1:3000', LOW_BALANCE_MICROS: 5_000_000n, BILLING_ENFORCE_CREDITS: true,
    });
    expect(createStripeClient({ secretKey: c.STRIPE_SECRET_KEY })).toBeNull();
  });

  it.each([
    ['STRIPE_API_BASE', 'ftp://stripe.test', /STRIPE_API_BASE="ftp:\/\/stripe.test": expected a http or https URL/],
    ['CHECKOUT_MIN_CENTS', '10', /CHECKOUT_MIN_CENTS="10"/],
    ['LOW_BALANCE_MICROS', '-1', /LOW_BALANCE_MICROS="-1"/],
    ['BILLING_ENFORCE_CREDITS', 'maybe', /BILLING_ENFORCE_CREDITS="maybe": expected true or false/],
  ])('names %s when it is %s', (name, value, message) => {
    expect(() => loadApiConfig({ ...valid, [name]: value })).toThrow(ConfigError);
    expect(() => loadApiConfig({ ...valid, [name]: value })).toThrow(message);
  });

  it('refuses a checkout range whose minimum is above its maximum, naming it', () => {
    const inverted = { ...valid, CHECKOUT_MIN_CENTS: '2000', CHECKOUT_MAX_CENTS: '1000' };
    expect(() => loadApiConfig(inverted)).toThrow(/CHECKOUT_MAX_CENTS="1000": must be at least CHECKOUT_MIN_CENTS/);
    expect(loadApiConfig({ ...inverted, CHECKOUT_MAX_CENTS: '2000' })).toMatchObject({ CHECKOUT_MIN_CENTS: 2000, CHECKOUT_MAX_CENTS: 2000 });
  });

  it('converts cents to micro-dollars exactly', () => {
    expect(centsToMicros(1)).toBe(10_000n);
    expect(centsToMicros(100_000)).toBe(1_000_000_000n);
  });
});
