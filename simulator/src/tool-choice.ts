import { z } from 'zod';
import type { JsonSchema } from './json-schema-value.ts';

export const toolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});
export type Tool = z.output<typeof toolSchema>;

const TOOL_CHOICE_ERROR =
  'Invalid value for `tool_choice`. Only named tools, "none", "auto" or "required" are supported.';
export const toolChoiceSchema = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
  ],
  { error: TOOL_CHOICE_ERROR },
);
export type ToolChoice = z.output<typeof toolChoiceSchema>;

/** The call a choice makes instead of answering in text; `finishReason` is what vLLM reports for it. */
export interface PlannedToolCall {
  name: string;
  parameters: JsonSchema;
  /** vLLM: "stop" for a named tool_choice (it is guided decoding), "tool_calls" for required and auto. */
  finishReason: 'stop' | 'tool_calls';
  /** Message content next to the call: "" for named/required, null when a parser extracted it (auto). */
  content: '' | null;
}

/**
 * Which tool the model "calls", if any:
 * - a named tool_choice: that tool;
 * - "required": the first tool whose name the last user message mentions, else the first tool;
 * - "auto" (the default when `tools` are sent): the first tool whose name the conversation's last
 *   message mentions, if that message is from the user; so after a tool result it answers in text
 *   and a client's tool loop ends;
 * - "none" or no tools: no call.
 */
export function planToolCall(
  tools: readonly Tool[],
  choice: ToolChoice,
  lastMessage: { role: string; text: string } | undefined,
  lastUserText: string,
): PlannedToolCall | undefined {
  const named = (text: string): Tool | undefined =>
    tools.find((tool) => text.toLowerCase().includes(tool.function.name.toLowerCase()));
  const call = (tool: Tool, finishReason: PlannedToolCall['finishReason'], content: '' | null): PlannedToolCall => ({
    name: tool.function.name,
    parameters: tool.function.parameters ?? { type: 'object', properties: {} },
    finishReason,
    content,
  });
  if (tools.length === 0 || choice === 'none') return undefined;
  if (typeof choice === 'object') {
    const tool = tools.find((candidate) => candidate.function.name === choice.function.name);
    return tool && call(tool, 'stop', '');
  }
  if (choice === 'required') return call(named(lastUserText) ?? tools[0]!, 'tool_calls', '');
  const mentioned = lastMessage?.role === 'user' ? named(lastMessage.text) : undefined;
  return mentioned && call(mentioned, 'tool_calls', null);
}
