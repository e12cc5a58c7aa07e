import { describe, expect, it } from 'vitest';
import { refusalSentence } from '../../src/lib/refusals.ts';

describe('refusal sentences', () => {
  it('says a refusal in one plain sentence chosen by its code, never the resolver\'s words', () => {
    const forbidden = refusalSentence({ code: 'FORBIDDEN', message: 'Not allowed: Not authorized to resolve Mutation.createApiKey' });
    expect(forbidden).toBe('Your role in this organization does not allow that. Ask an owner or admin of the organization.');
    expect(refusalSentence({ code: 'NOT_FOUND', message: 'No ApiKey found for id key_x' })).not.toContain('key_x');
    expect(refusalSentence({ code: 'RATE_LIMITED', message: 'cost budget 100/min exceeded' })).toMatch(/^Too many requests/);
  });

  it('keeps the API\'s own words for bad input and conflicts, as a sentence', () => {
    expect(refusalSentence({ code: 'BAD_USER_INPUT', message: 'rpmLimit is above the organization\'s ceiling of 600' })).toBe('rpmLimit is above the organization\'s ceiling of 600.');
    expect(refusalSentence({ code: 'CONFLICT', message: 'The last owner cannot be removed.' })).toBe('The last owner cannot be removed.');
  });

  it('an unexpected error points to the request id an operator can look up', () => {
    expect(refusalSentence({ code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error.', requestId: 'req_42' })).toMatch(/request id: req_42\.$/);
    expect(refusalSentence({ code: 'SOMETHING_NEW', message: 'x' })).toBe('Something went wrong on our side. Reload the page to see whether it was done, then try again.');
  });
});
