// The API's errors: one class with an HTTP status and a stable code, and the one JSON form every
// error answer takes ({"error": {code, status, message, parameter?}}, schemas.ts ErrorSchema).

import { ProxyError } from "../errors.js";
import type { ApiJson } from "./schemas.js";

export class ApiError extends ProxyError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly parameter?: string,
  ) {
    super(code, message);
  }
}

/** 400: a query or path parameter is wrong; `reason` says why. */
export const badParameter = (parameter: string, reason: string): ApiError =>
  new ApiError(400, "ERR_API_BAD_PARAMETER", `${parameter}: ${reason}`, parameter);

export const notFound = (what: string): ApiError => new ApiError(404, "ERR_API_NOT_FOUND", what);

export function errorJson(e: ApiError): ApiJson<"Error"> {
  return {
    error: {
      code: e.code,
      status: e.status,
      message: e.message,
      ...(e.parameter !== undefined ? { parameter: e.parameter } : {}),
    },
  };
}

/** Any error thrown while answering, as an ApiError: fastify's own (body too large, bad JSON) keep their status. */
export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const err = e as { statusCode?: number; code?: string; message?: string };
  const status = typeof err.statusCode === "number" ? err.statusCode : 500;
  const message = err.message ?? String(e);
  switch (status) {
    case 413:
      return new ApiError(413, "ERR_API_BODY_TOO_LARGE", "request body too large");
    case 415:
      return new ApiError(415, "ERR_API_MEDIA_TYPE", message);
    case 400:
      return new ApiError(400, "ERR_API_BAD_REQUEST", message);
    default:
      return status >= 400 && status < 500
        ? new ApiError(status, "ERR_API_REQUEST", message)
        : new ApiError(500, "ERR_API_INTERNAL", `internal error: ${message}`);
  }
}
