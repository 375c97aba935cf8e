/** Azure Communication Services audio streaming (see ../adapter.ts and parse.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { createAcsParser, isAcsMetadata } from './parse.js';

export const acs: ProviderAdapter = {
  name: 'acs',
  createParser: (connection) => createAcsParser(connection),
  detect: (msg) => isAcsMetadata(msg),
};
