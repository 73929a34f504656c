export { connect } from "./connect.js";
export type { ConnectOptions, RemoteSluice } from "./connect.js";
export { RemoteQueueService } from "./remote-queue-service.js";
export { HttpTransport } from "./http-transport.js";
export type { HttpTransportOptions } from "./http-transport.js";
