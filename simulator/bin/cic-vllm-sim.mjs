#!/usr/bin/env node
// `cic-vllm-sim --model NAME --port 8000 …`: the simulator as a process (flags: --help). The sources are
// TypeScript, so the bin registers tsx's loader before importing the entry point.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
