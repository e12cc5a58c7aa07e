// The package's library entry: start a simulator in-process (tests, benchmarks) and its tokenizer
// (tests compare usage against it). The `cic-vllm-sim` bin runs main.ts as a process.
export { createSimulator, type Simulator } from './server.ts';
export type { SimulatorOptions, FailureType, OutputMode } from './options.ts';
export { countChatPromptTokens, countTokens, tokenize } from './tokenizer.ts';
export type { RecordedRequest } from './request-recorder.ts';
