import { type ApiHandler, defineApi } from "./api-handler.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import {
  apiVersions,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
} from "./protocol/schemas/index.js";
import { inRange } from "./protocol/version-range.js";

/** A row of the ApiVersions answer. */
export interface AdvertisedApi {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** Versions of ApiVersions served (3 is the first flexible one; 4 adds nothing a broker must do). */
const API_VERSIONS_MAX = 3;

/**
 * The listener's one table of APIs: dispatch looks handlers up here and the ApiVersions answer
 * is derived from the same rows, so what is advertised is exactly what is served.
 */
export class ApiTable {
  private readonly byKey = new Map<number, ApiHandler<never, object>>();
  readonly advertised: readonly AdvertisedApi[];

  constructor(handlers: readonly ApiHandler<never, object>[]) {
    const all = [...handlers, this.apiVersionsHandler()];
    for (const handler of all) {
      const { apiKey, name } = handler.schema;
      if (this.byKey.has(apiKey)) throw new Error(`API ${name} (${apiKey}) is in the table twice`);
      for (const v of [handler.minVersion, handler.maxVersion, handler.advertisedMinVersion ?? 0])
        if (!inRange(handler.schema.request.validVersions, v))
          throw new Error(
            `API ${name} v${v} is not one of Kafka's versions (${handler.schema.request.validVersions})`,
          );
      this.byKey.set(apiKey, handler);
    }
    this.advertised = [...this.byKey.values()]
      .map((h) => ({
        apiKey: h.schema.apiKey,
        minVersion: Math.min(h.advertisedMinVersion ?? h.minVersion, h.minVersion),
        maxVersion: h.maxVersion,
      }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  /** The handler of an API key, if the listener knows it. */
  get(apiKey: number): ApiHandler<never, object> | undefined {
    return this.byKey.get(apiKey);
  }

  /** The handlers, in API key order. */
  handlers(): ApiHandler<never, object>[] {
    return [...this.byKey.values()].sort((a, b) => a.schema.apiKey - b.schema.apiKey);
  }

  /** The answer to an ApiVersions request at a version this table does not serve (KIP-511). */
  unsupportedApiVersionsAnswer(): ApiVersionsResponse {
    return { errorCode: KafkaErrorCode.UNSUPPORTED_VERSION, apiKeys: [...this.advertised] };
  }

  private apiVersionsHandler(): ApiHandler<never, object> {
    return defineApi<ApiVersionsRequest, ApiVersionsResponse>({
      schema: apiVersions,
      minVersion: 0,
      maxVersion: API_VERSIONS_MAX,
      handle: () =>
        Promise.resolve({ errorCode: KafkaErrorCode.NONE, apiKeys: [...this.advertised] }),
    });
  }
}
