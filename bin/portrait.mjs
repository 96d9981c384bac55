#!/usr/bin/env node
// Runs the CLI straight from the TypeScript sources (no build step needed after `npm ci`); a build in dist/ is
// used when present and newer, which is what a packaged install has.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
