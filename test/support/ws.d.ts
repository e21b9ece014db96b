// Just what the inspector relay test uses of `ws` (a dependency of @statelyai/inspect, without bundled types).
declare module 'ws' {
  import type { AddressInfo } from 'node:net';
  interface RelaySocket {
    on(event: 'message', listener: (data: { toString(): string }) => void): void;
  }
  export class WebSocketServer {
    constructor(options: { host?: string; port?: number });
    once(event: 'listening', listener: () => void): void;
    on(event: 'connection', listener: (socket: RelaySocket) => void): void;
    address(): AddressInfo | string | null;
    close(callback?: () => void): void;
  }
}
