export { SluiceServer, defaultPublicUrl, modulesFor } from "./server.js";
export type { SluiceServerOptions, SluiceServices } from "./server.js";
export type { ServerContext, ServerLink, ServerModule } from "./server-module.js";
export type { AwsJsonService, AwsQueryService, AwsRequestContext } from "./aws/aws-protocols.js";
export { AwsError } from "./aws/aws-error.js";
export { queuesModule } from "./queues/queues-module.js";
export type { QueuesModuleOptions } from "./queues/queues-module.js";
