/**
 * A deterministic stand-in for a real tokenizer: a word (with its leading whitespace), a
 * single symbol, or trailing whitespace is one token. Joining the tokens gives back the
 * text exactly, so echoed output can be streamed token by token without drift.
 */
const TOKEN_PATTERN = /\s*[A-Za-z0-9]+|\s*[^\sA-Za-z0-9]|\s+$/gu;

/** Tokens a chat template spends on each message: `<|im_start|>`, role, newline, `<|im_end|>`. */
export const CHAT_MESSAGE_OVERHEAD_TOKENS = 4;
/** Tokens of the generation prompt that opens the assistant turn: `<|im_start|>`, `assistant`. */
export const CHAT_REPLY_PRIMER_TOKENS = 2;

/** One chat message as the OpenAI API sends it; only text parts carry tokens here. */
export interface ChatMessage {
  role: string;
  content?: string | null | ReadonlyArray<{ type: string; text?: string }>;
}

export function tokenize(text: string): string[] {
  return text.match(TOKEN_PATTERN) ?? [];
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}

/** The text of a message: a string, or the text parts of a multi-part content array joined. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('');
}

/**
 * Renders messages as ChatML-like tokens. The prefix cache hashes these, so two requests
 * that share their first messages share cached blocks, as they would on a real server.
 */
export function chatPromptTokens(messages: readonly ChatMessage[]): string[] {
  const tokens: string[] = [];
  for (const message of messages) {
    tokens.push('<|im_start|>', message.role, '\n', ...tokenize(messageText(message)), '<|im_end|>');
  }
  tokens.push('<|im_start|>', 'assistant');
  return tokens;
}

/** Prompt tokens of a chat request: Σ (tokens(content) + 4) + 2. */
export function countChatPromptTokens(messages: readonly ChatMessage[]): number {
  return chatPromptTokens(messages).length;
}
