/** Sinch Voice Stream (see ../adapter.ts and parse.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { createSinchParser, isSinchConnect } from './parse.js';

export const sinch: ProviderAdapter = {
  name: 'sinch',
  createParser: () => createSinchParser(),
  detect: (msg) => isSinchConnect(msg),
};
