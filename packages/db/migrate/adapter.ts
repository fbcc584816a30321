// Driver adapter for Prisma 6.19's WebAssembly schema engine (the migration CLI), with the three
// fixes PostgreSQL needs on that path. See docs/decisions/0001-prisma-toolchain.md.
import { PrismaPg } from "@prisma/adapter-pg-migrate";
import pg from "pg";

// The schema engine's introspection returns columns of type `name` (19), `"char"` (18) and
// `name[]` (1003), which adapter-pg 6.19 cannot map (prisma/prisma#27403). They are plain text, so
// relabel them as `text` (25) and `text[]` (1009) before the adapter sees them.
const RELABEL = new Map<number, number>([
  [18, 25],
  [19, 25],
  [1003, 1009],
]);

type TypeParserSource = { getTypeParser: (oid: number, format?: "text" | "binary") => unknown };
type QueryConfig = { text: string; types?: TypeParserSource; [key: string]: unknown };
type Callback = (err: Error | null, result?: pg.QueryResult) => void;

function relabelResult<T>(result: T): T {
  const results = Array.isArray(result) ? result : [result];
  for (const r of results as Array<pg.QueryResult | undefined>) {
    for (const field of r?.fields ?? []) {
      const to = RELABEL.get(field.dataTypeID);
      if (to !== undefined) field.dataTypeID = to;
    }
  }
  return result;
}

function relabelTypes(config: QueryConfig): QueryConfig {
  const source: TypeParserSource = config.types ?? pg.types;
  return {
    ...config,
    types: {
      getTypeParser: (oid: number, format?: "text" | "binary") =>
        source.getTypeParser(RELABEL.get(oid) ?? oid, format),
    },
  };
}

/** A pg.Client whose results never carry the three unmapped introspection types. */
class RelabellingClient extends pg.Client {
  // pg.Client#query has many overloads; both the promise form (adapter-pg) and the callback form
  // (pg-pool's `pool.query`) must be covered.
  override query(...args: unknown[]): never {
    const [first, ...rest] = args;
    const config =
      typeof first === "string"
        ? relabelTypes({ text: first })
        : relabelTypes(first as QueryConfig);
    const last = rest.at(-1);
    if (typeof last === "function") {
      const callback = last as Callback;
      const wrapped: Callback = (err, result) =>
        callback(err, err ? result : relabelResult(result));
      return (super.query as (...a: unknown[]) => never)(config, ...rest.slice(0, -1), wrapped);
    }
    const out = (super.query as (...a: unknown[]) => unknown)(config, ...rest);
    return (out as Promise<pg.QueryResult>).then(relabelResult) as never;
  }
}

type Adapter = Awaited<ReturnType<PrismaPg["connect"]>>;

/**
 * adapter-pg 6.19 runs a migration script by splitting it on every ";", which cuts a function body
 * or a DO block in pieces. PostgreSQL takes a whole script as one simple query (one implicit
 * transaction), as the native schema engine sends it: do that instead.
 */
function runScriptsWhole(adapter: Adapter): Adapter {
  const driver = adapter.underlyingDriver() as pg.Pool;
  const onError = (adapter as unknown as { onError: (error: unknown) => never }).onError;
  adapter.executeScript = async (script: string) => {
    try {
      await driver.query(script);
    } catch (error) {
      onError.call(adapter, error);
    }
  };
  return adapter;
}

/** An adapter factory whose adapters run scripts whole. */
function factoryFor(config: pg.PoolConfig): PrismaPg {
  const factory = new PrismaPg(config);
  const connect = factory.connect.bind(factory);
  factory.connect = async () => runScriptsWhole(await connect());
  return factory;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function poolConfig(connectionString: string): pg.PoolConfig {
  // allowExitOnIdle: the CLI process must not wait for idle connections to time out.
  return { connectionString, Client: RelabellingClient, allowExitOnIdle: true, max: 4 };
}

/**
 * Adapter factory for the migration CLI. Its shadow database (for `migrate dev` and
 * `migrate diff --from-migrations`) gets a unique name, is connected to by name (adapter-pg 6.19
 * ignores the name when given a connection string) and is dropped only after its pool has closed.
 */
export function createMigrationAdapter(url: string): PrismaPg {
  const factory = factoryFor(poolConfig(url));
  factory.connectToShadowDb = async () => {
    const admin = await factory.connect();
    const database = `prisma_shadow_${crypto.randomUUID().replaceAll("-", "")}`;
    await admin.executeScript(`CREATE DATABASE "${database}"`);
    const shadow = await factoryFor(poolConfig(withDatabase(url, database))).connect();
    const disposeShadow = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await disposeShadow();
      try {
        await admin.executeScript(`DROP DATABASE IF EXISTS "${database}"`);
      } finally {
        await admin.dispose();
      }
    };
    return shadow;
  };
  return factory;
}
