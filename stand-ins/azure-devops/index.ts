export { AdoServer, type AdoRequest, type FaultOptions } from './server';
export type { AdoIdentity, StatusRecord } from './store';
