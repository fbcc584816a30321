import { describe, expect, it } from "vitest";
import { EnvError, loadEnv } from "./env.ts";

const SECRET = "s".repeat(32);

function problems(source: NodeJS.ProcessEnv): string[] {
  try {
    loadEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadEnv", () => {
  it("needs nothing in development: embedded database, HS256 with a generated secret", () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ PORT: 3000, HOST: "127.0.0.1", verifiers: ["hs256"] });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.jwks).toBeUndefined();
  });

  it("derives the JWKS verifier from BETTER_AUTH_URL, with Better Auth's iss and aud", () => {
    const env = loadEnv({ BETTER_AUTH_URL: "https://auth.example.com/" });
    expect(env.verifiers).toEqual(["hs256", "jwks"]);
    expect(env.jwks).toEqual({
      url: new URL("https://auth.example.com/api/auth/jwks"),
      issuer: "https://auth.example.com",
      audience: "https://auth.example.com",
    });
    expect(env.JWT_ALGORITHMS).toEqual(["EdDSA"]);
  });

  it("runs only the verifiers AUTH_VERIFIERS names", () => {
    const env = loadEnv({
      AUTH_VERIFIERS: "jwks",
      BETTER_AUTH_JWKS_URL: "https://keys.example.com/jwks.json",
      JWT_ISSUER: "https://issuer.example.com",
      JWT_AUDIENCE: "todo-api",
      JWT_ALGORITHMS: "EdDSA,ES256",
    });
    expect(env.verifiers).toEqual(["jwks"]);
    expect(env.jwks?.audience).toBe("todo-api");
    expect(env.JWT_ALGORITHMS).toEqual(["EdDSA", "ES256"]);
  });

  it.each([
    [{ PORT: "http" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ BETTER_AUTH_SECRET: "short" }, "BETTER_AUTH_SECRET"],
    [{ BETTER_AUTH_URL: "not a url" }, "BETTER_AUTH_URL"],
    [{ AUTH_VERIFIERS: "hs256,magic" }, "AUTH_VERIFIERS"],
    [{ JWT_ALGORITHMS: "HS256" }, "JWT_ALGORITHMS"],
    [{ JWT_ALGORITHMS: "none" }, "JWT_ALGORITHMS"],
    [{ AUTH_VERIFIERS: "jwks" }, "BETTER_AUTH_URL or BETTER_AUTH_JWKS_URL"],
    [{ BETTER_AUTH_JWKS_URL: "https://k.example/jwks" }, "JWT_ISSUER and JWT_AUDIENCE"],
    [{ NODE_ENV: "production", BETTER_AUTH_SECRET: SECRET }, "DATABASE_URL"],
    [{ NODE_ENV: "production", DATABASE_URL: "postgresql://h/db" }, "production needs a way"],
    [
      { NODE_ENV: "production", DATABASE_URL: "postgresql://h/db", AUTH_VERIFIERS: "hs256" },
      "BETTER_AUTH_SECRET",
    ],
  ])("reports %j by name", (source, name) => {
    expect(problems(source).join("\n")).toContain(name);
  });

  it("accepts a complete production configuration", () => {
    const env = loadEnv({
      NODE_ENV: "production",
      DATABASE_URL: "postgresql://u@db.example.com/todo",
      BETTER_AUTH_URL: "https://auth.example.com",
    });
    expect(env).toMatchObject({ HOST: "0.0.0.0", verifiers: ["jwks"] });
  });
});
