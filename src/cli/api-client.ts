// The command line's client of the management API: HTTP over the daemon's Unix socket. Every
// failure becomes one line an operator can act on (ApiClientError), never a stack trace.

import http from "node:http";
import { ProxyError } from "../errors.js";

/** The socket the daemon listens on by default (management.socket). */
export const DEFAULT_SOCKET = "/run/evpn-proxy/api.sock";

export class ApiClientError extends ProxyError {}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** Answers larger than this are refused (a page of MACs is far below). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** One request; rejects with an ApiClientError saying what to do when the daemon cannot be reached. */
export function apiRequest(
  socket: string,
  method: "GET" | "POST",
  path: string,
  timeoutMs = 30_000,
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socket, method, path, headers: { accept: "application/json" }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (b: Buffer) => {
          size += b.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new ApiClientError("ERR_CLI_ANSWER", "answer too large"));
          else chunks.push(b);
        });
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status: res.statusCode ?? 0, body: text === "" ? null : JSON.parse(text) });
          } catch {
            reject(
              new ApiClientError("ERR_CLI_ANSWER", `the daemon at ${socket} answered ${res.statusCode} with no JSON`),
            );
          }
        });
        res.on("error", (e) => reject(connectError(socket, e)));
      },
    );
    req.on("timeout", () =>
      req.destroy(new ApiClientError("ERR_CLI_TIMEOUT", `no answer from ${socket} within ${timeoutMs / 1000} s`)),
    );
    req.on("error", (e) => reject(connectError(socket, e)));
    req.end();
  });
}

function connectError(socket: string, e: Error): ApiClientError {
  if (e instanceof ApiClientError) return e;
  switch ((e as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return new ApiClientError("ERR_CLI_NOT_RUNNING", `the daemon is not running: no socket ${socket}`);
    case "ECONNREFUSED":
      return new ApiClientError("ERR_CLI_NOT_RUNNING", `the daemon is not running: nothing answers on ${socket}`);
    case "EACCES":
    case "EPERM":
      return new ApiClientError(
        "ERR_CLI_PERMISSION",
        `permission denied on ${socket}: run as root or as a member of the socket's group`,
      );
    case "ENOTSOCK":
      return new ApiClientError("ERR_CLI_NOT_RUNNING", `${socket} is not a socket`);
    default:
      return new ApiClientError("ERR_CLI_CONNECT", `cannot reach the daemon on ${socket}: ${e.message}`);
  }
}

/** The message of an API error answer ({"error": {message}}), or the status. */
export function errorMessage(r: ApiResponse): string {
  const e = (r.body as { error?: { message?: unknown } } | null)?.error;
  return typeof e?.message === "string" ? e.message : `the daemon answered ${r.status}`;
}
