import { describe, expect, it } from 'vitest';
import { withStreamUsage } from '../../src/inference/splice-json.ts';

const spliced = (text: string): string => withStreamUsage(Buffer.from(text)).toString('utf8');

describe('withStreamUsage', () => {
  it('adds stream_options and leaves every other byte as sent (numbers beyond 2^53 included)', () => {
    const body = '{ "model":"m",\n  "seed": 12345678901234567890, "logit_bias": {"50256": -100.000}, "x": "\\u00e9 }{" }';
    const out = spliced(body);
    expect(out).toBe('{"stream_options":{"include_usage":true}, "model":"m",\n  "seed": 12345678901234567890, "logit_bias": {"50256": -100.000}, "x": "\\u00e9 }{" }');
    expect(JSON.parse(out)).toMatchObject({ stream_options: { include_usage: true }, model: 'm', x: 'é }{' });
  });

  it('sets include_usage inside the client own stream_options, null or false', () => {
    expect(spliced('{"stream_options":{"include_usage":false,"continuous_usage_stats":true},"n":1}'))
      .toBe('{"stream_options":{"include_usage":true,"continuous_usage_stats":true},"n":1}');
    expect(spliced('{"stream_options":{"continuous_usage_stats":true}}')).toBe('{"stream_options":{"include_usage":true,"continuous_usage_stats":true}}');
    expect(spliced('{"stream_options":{ }}')).toBe('{"stream_options":{"include_usage":true }}');
    expect(spliced('{"stream_options": null ,"a":[1,{"stream_options":null}]}')).toBe('{"stream_options": {"include_usage":true} ,"a":[1,{"stream_options":null}]}');
  });

  it('edits the member a JSON parser keeps: the last duplicate, escaped keys decoded', () => {
    const out = spliced('{"stream_options":{"include_usage":false},"\\u0073tream_options":{"include_usage":null}}');
    expect(out).toBe('{"stream_options":{"include_usage":false},"\\u0073tream_options":{"include_usage":true}}');
    expect(JSON.parse(out)).toEqual({ stream_options: { include_usage: true } });
  });

  it('skips nested values and strings holding braces, quotes and backslashes', () => {
    const body = '{"messages":[{"role":"user","content":"a \\"}\\\\ [b"}],"tools":[{"f":{"g":[[],{}]}}]}';
    expect(JSON.parse(spliced(body))).toEqual({ ...JSON.parse(body), stream_options: { include_usage: true } });
  });

  it('keeps multi-byte UTF-8 bytes and invalid sequences as they came', () => {
    const body = Buffer.concat([Buffer.from('{"model":"m","content":"日本'), Buffer.from([0xff]), Buffer.from('"}')]);
    const out = withStreamUsage(body);
    expect(out.subarray(out.length - body.length + 1)).toEqual(body.subarray(1));
  });
});
