// Shipway's TypeScript SDK. `client.api` is an openapi-fetch client typed by the
// generated `schema.d.ts` (`make sdk` regenerates it from the server's OpenAPI schema);
// `client.subscribe` is the hand-written realtime helper over the websocket feed.
import createFetchClient, { type Client } from "openapi-fetch";
import WebSocket from "ws";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
export type Schemas = components["schemas"];

export interface ShipwayOptions {
  /** The platform's address, e.g. http://127.0.0.1:8000 */
  url: string;
  /** An API key (`POST /v1/account/keys` or `manage.py createapikey`). */
  token: string;
}

/** One realtime event: the channels it was sent on and the resource as the API shows it. */
export interface RealtimeEvent<Payload = Record<string, unknown>> {
  events: string[];
  channels: string[];
  timestamp: string;
  payload: Payload;
}

export interface Subscription {
  /** Resolves once the server confirmed the channels; rejects if it refused them. */
  ready: Promise<void>;
  /** Resolves when the connection ends, with the server's close code. */
  closed: Promise<number>;
  close(): void;
}

/** The error of a call that did not succeed: the API's envelope. */
export class ShipwayError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = "ShipwayError";
  }
}

export class Shipway {
  readonly url: string;
  readonly api: Client<paths>;
  readonly #token: string;

  constructor({ url, token }: ShipwayOptions) {
    this.url = url.replace(/\/+$/, "");
    this.#token = token;
    this.api = createFetchClient<paths>({
      baseUrl: this.url,
      headers: { Authorization: `Bearer ${token}` },
    });
  }

  /** Receive every event on `channels` (e.g. `sites.{siteId}.deployments.{deploymentId}`)
   * until `close()`; the API key goes in the handshake's Authorization header. */
  subscribe(
    channels: string | string[],
    callback: (event: RealtimeEvent) => void,
  ): Subscription {
    const names = typeof channels === "string" ? [channels] : channels;
    const query = names.map((name) => `channels=${encodeURIComponent(name)}`).join("&");
    const address = `${this.url.replace(/^http/, "ws")}/v1/realtime?${query}`;
    const socket = new WebSocket(address, {
      headers: { Authorization: `Bearer ${this.#token}` },
    });
    let confirm: () => void = () => {};
    let refuse: (error: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      confirm = resolve;
      refuse = reject;
    });
    const closed = new Promise<number>((resolve) => {
      socket.on("close", (code, reason) => {
        refuse(new ShipwayError(code, "realtime_closed", reason.toString() || "closed"));
        resolve(code);
      });
    });
    socket.on("error", (error) => refuse(error));
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { type: string; data: unknown };
      if (message.type === "connected") confirm();
      else if (message.type === "event") callback(message.data as RealtimeEvent);
    });
    return { ready, closed, close: () => socket.close() };
  }
}

/** The value of a call's answer, or a ShipwayError with the API's message. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    const envelope = (error ?? {}) as { message?: string; type?: string };
    throw new ShipwayError(
      response.status,
      envelope.type ?? "error",
      envelope.message ?? `HTTP ${response.status}`,
    );
  }
  return data;
}
