import type * as net from 'node:net';

/** What a source gate saw: the addresses it let through and the ones it cut off. */
export interface GateRecord {
  accepted: string[];
  refused: string[];
}

/**
 * Makes `server` accept connections only from `address` (a proxy's outgoing address, e.g. tinyproxy's
 * `Bind`): any other connection is reset before a byte is read, so a client that goes around the
 * proxy gets no answer. Returns what it saw.
 */
export function acceptOnlyFrom(server: net.Server, address: string): GateRecord {
  const record: GateRecord = { accepted: [], refused: [] };
  // The server's own handlers (http's parser) see only the connections let through.
  const handlers = server.listeners('connection') as Array<(socket: net.Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: net.Socket) => {
    const from = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (from !== address) {
      record.refused.push(from);
      // A reset, as a firewall's reject (a plain close before any byte leaves Node 20's fetch waiting forever).
      socket.resetAndDestroy();
      return;
    }
    record.accepted.push(from);
    for (const handler of handlers) handler.call(server, socket);
  });
  return record;
}
