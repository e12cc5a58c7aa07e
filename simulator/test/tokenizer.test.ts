import { describe, expect, it } from 'vitest';
import { countChatPromptTokens, countTokens, tokenize } from '../src/tokenizer.ts';
import { planOutput } from '../src/output-plan.ts';
import { createRandom } from '../src/prng.ts';

describe('tokenizer stand-in', () => {
  it('splits words with their leading space and single symbols', () => {
    expect(tokenize('Hello there, world!')).toEqual(['Hello', ' there', ',', ' world', '!']);
    expect(countTokens('')).toBe(0);
  });

  it('reproduces the text exactly when the tokens are joined', () => {
    for (const text of ['  lead and trail  ', 'tabs\tand\nnewlines\n', 'émoji 🚀 ünïcode', 'a+b=c; d']) {
      expect(tokenize(text).join('')).toBe(text);
    }
  });

  it('counts chat prompts as Σ(tokens + 4) + 2, with string or text-part content', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'image_url' }, { type: 'text', text: ' you' }] },
      { role: 'assistant', content: null },
    ];
    expect(countChatPromptTokens(messages)).toBe(3 + 4 + (2 + 4) + (0 + 4) + 2);
  });
});

describe('output planning', () => {
  const random = createRandom(1);
  const plan = (extra: Partial<Parameters<typeof planOutput>[0]>) =>
    planOutput({ mode: 'echo', random, echoText: 'one two three four', maxTokens: 100, ...extra });

  it('echoes, and caps at max_tokens with finish_reason length', () => {
    expect(plan({})).toMatchObject({ tokens: ['one', ' two', ' three', ' four'], finishReason: 'stop' });
    expect(plan({ maxTokens: 2 })).toMatchObject({ tokens: ['one', ' two'], finishReason: 'length' });
  });

  it('repeats the text to a fixed --output-tokens length', () => {
    expect(plan({ outputTokens: 6 }).tokens.join('')).toBe('one two three fourone two');
    expect(plan({ outputTokens: 6, maxTokens: 5 }).finishReason).toBe('length');
    expect(plan({ outputTokens: 3, echoText: '' }).tokens).toHaveLength(3);
  });

  it('runs to max_tokens with ignore_eos', () => {
    expect(plan({ ignoreEos: true, maxTokens: 9 })).toMatchObject({ finishReason: 'length' });
    expect(plan({ ignoreEos: true, maxTokens: 9 }).tokens).toHaveLength(9);
  });

  it('picks preset text deterministically in random mode', () => {
    const a = planOutput({ mode: 'random', random: createRandom(5), echoText: 'x', maxTokens: 100 });
    const b = planOutput({ mode: 'random', random: createRandom(5), echoText: 'x', maxTokens: 100 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens.join('')).not.toBe('x');
  });
});
