/** FreeSWITCH mod_audio_fork (see ../adapter.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { createFreeswitchParser, FREESWITCH_SUBPROTOCOL } from './parse.js';

export const freeswitch: ProviderAdapter = {
  name: 'freeswitch',
  createParser: (connection) => createFreeswitchParser(connection),
  subprotocols: [FREESWITCH_SUBPROTOCOL],
};
