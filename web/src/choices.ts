// The values the dashboard's filters offer. Statuses are the server's own list; providers are
// named here (the server's registry is not for the browser) and a test holds the two lists
// together (test/integration/web-choices.test.ts).
export { RECORDING_STATUSES as STATUSES } from '../../src/catalog/schema.js';

export const PROVIDERS = ['twilio', 'signalwire', 'telnyx', 'plivo', 'exotel', 'bandwidth', 'vonage', 'jambonz', 'freeswitch', 'sinch', 'acs', 'asterisk', 'genesys'] as const;
