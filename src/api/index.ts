// The management API as the composition root starts it: the event recorder, the paged listings
// and the HTTP servers, over the daemon's read models and actions.

import type { ManagementSettings } from "../config/model.js";
import type { EventBus } from "../mgmt/events.js";
import { History } from "../mgmt/history.js";
import { MacLister } from "../mgmt/macs.js";
import { RouteLister } from "../mgmt/routes.js";
import type { DaemonState, Views } from "../mgmt/views.js";
import { eventStream } from "./events.js";
import { type ApiActions, apiRoutes } from "./routes.js";
import { daemonMetrics } from "./metrics.js";
import { ApiServer } from "./server.js";

export type { ApiActions, ReloadOutcome } from "./routes.js";

export interface ManagementOptions {
  settings: ManagementSettings;
  version: string;
  state: DaemonState;
  views: Views;
  events: EventBus;
  configFile: string | null;
  actions: ApiActions;
}

export class ManagementApi {
  readonly history: History;
  private readonly server: ApiServer;
  private readonly metrics: ReturnType<typeof daemonMetrics>;
  private loaded: number;

  constructor(o: ManagementOptions) {
    const now = () => o.state.now();
    this.loaded = now();
    this.history = new History(o.events, now);
    const startedAt = now();
    this.metrics = daemonMetrics({ version: o.version, state: o.state, views: o.views, history: this.history });
    const registry = this.metrics.registry;
    const routes = apiRoutes({
      version: o.version,
      views: o.views,
      state: o.state,
      history: this.history,
      macs: new MacLister(o.state, this.history),
      routes: new RouteLister(o.state),
      events: o.events,
      configFile: o.configFile,
      startedAt,
      loadedAt: () => this.loaded,
      actions: o.actions,
    });
    this.server = new ApiServer(o.settings, routes, [
      {
        url: "/metrics",
        handle: async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()),
      },
      eventStream({ events: o.events, routes, now }),
    ]);
  }

  /** Opens the listeners; throws (a ProxyError) when one cannot be opened. */
  async start(): Promise<{ httpPort: number | undefined }> {
    await this.server.start();
    return { httpPort: this.server.httpPort };
  }

  async stop(): Promise<void> {
    await this.server.stop();
    this.history.close();
    this.metrics.stop();
  }

  /** A new configuration was applied: its time; the token file is read again (an error says why the old token stays). */
  reloaded(at: number): string | null {
    this.loaded = at;
    try {
      this.server.readToken();
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }
}
