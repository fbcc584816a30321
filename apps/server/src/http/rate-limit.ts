import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@todo/api/errors";
import type { RequestHandler } from "express";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { sendFailure } from "./answers.ts";

const TOO_MANY_MESSAGE = "Too many requests; retry after the time in Retry-After";

export type RateLimitOptions = {
  /** Requests per minute for one authenticated user, across all server processes. */
  perUserPerMinute: number;
  /** Requests per minute from one IP address without a valid token. */
  perAnonymousIpPerMinute: number;
  /** Shared store; without it each process counts alone. */
  redisUrl?: string;
  keyPrefix: string;
  logger: Logger;
};

export type RateLimiting = { middleware: RequestHandler; close: () => Promise<void> };

type Limiters = { user: RateLimiterAbstract; anonymous: RateLimiterAbstract };

function limiters(options: RateLimitOptions, redis: Redis | undefined): Limiters {
  const make = (name: string, points: number): RateLimiterAbstract => {
    const base = { points, duration: 60, keyPrefix: `${options.keyPrefix}:rl:${name}` };
    if (!redis) return new RateLimiterMemory(base);
    // Redis down: each process falls back to its own in-memory count of the same limit, so the
    // API stays up and still limited (per process) until Redis answers again.
    return new RateLimiterRedis({
      ...base,
      storeClient: redis,
      insuranceLimiter: new RateLimiterMemory(base),
    });
  };
  return {
    user: make("user", options.perUserPerMinute),
    anonymous: make("ip", options.perAnonymousIpPerMinute),
  };
}

function setHeaders(res: Parameters<RequestHandler>[1], limit: number, state: RateLimiterRes) {
  const reset = Math.ceil(state.msBeforeNext / 1000);
  // IETF draft "RateLimit header fields for HTTP", as most gateways send them.
  res.setHeader("RateLimit-Limit", String(limit));
  res.setHeader("RateLimit-Remaining", String(Math.max(0, state.remainingPoints)));
  res.setHeader("RateLimit-Reset", String(reset));
  return reset;
}

/**
 * Per-user (per-IP without a valid token) limits, answered with 429 and Retry-After. Waits (up to
 * 2 s) for Redis before resolving, so the first requests are already counted in the shared store.
 */
export async function rateLimiting(options: RateLimitOptions): Promise<RateLimiting> {
  const redis = options.redisUrl
    ? new Redis(options.redisUrl, {
        // Fail fast instead of queueing while disconnected: the insurance limiter takes over.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        lazyConnect: true,
      })
    : undefined;
  let redisDown = false;
  redis?.on("error", (err) => {
    if (!redisDown) options.logger.warn({ err }, "Redis unavailable: rate limits are per process");
    redisDown = true;
  });
  redis?.on("ready", () => {
    if (redisDown) options.logger.info("Redis is back: rate limits are shared again");
    redisDown = false;
  });
  const { user, anonymous } = limiters(options, redis);
  if (redis) {
    const connected = redis.connect().then(
      () => true,
      () => false,
    );
    const waited = await Promise.race([connected, sleep(2_000).then(() => false)]);
    if (!waited) options.logger.warn("Redis not reachable at start: rate limits are per process");
  }

  const middleware: RequestHandler = async (req, res, next) => {
    // The same verification protectedProcedure will use: shared, not repeated.
    const userId = await res.locals.identify().then(
      (token) => token.userId,
      () => undefined,
    );
    const [limiter, key, limit] =
      userId !== undefined
        ? [user, userId, options.perUserPerMinute]
        : [anonymous, req.ip ?? "unknown", options.perAnonymousIpPerMinute];
    // A request that does more than one call's work (a batch) is charged the rest from inside.
    res.locals.charge = async (points) => {
      if (points <= 0) return;
      try {
        setHeaders(res, limit, await limiter.consume(key, points));
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        res.setHeader("Retry-After", String(Math.max(1, setHeaders(res, limit, rejection))));
        throw new AppError("TOO_MANY_REQUESTS", TOO_MANY_MESSAGE);
      }
    };
    try {
      setHeaders(res, limit, await limiter.consume(key));
      next();
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      res.setHeader("Retry-After", String(Math.max(1, setHeaders(res, limit, rejection))));
      sendFailure(req, res, {
        status: 429,
        code: "TOO_MANY_REQUESTS",
        message: TOO_MANY_MESSAGE,
      });
    }
  };
  return {
    middleware,
    close: async () => {
      redis?.disconnect();
    },
  };
}
