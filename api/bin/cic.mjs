#!/usr/bin/env node
// `cic <command>`: the admin CLI (migrate, bootstrap, models, orgs, keys; `cic --help`). The sources are
// TypeScript, so the bin registers tsx's loader before importing the entry point.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
