// Token verification cost: our HS256 and EdDSA/JWKS verifiers against the bare signature check of
// the same token with node:crypto, measured in the same run (ratios, not absolute numbers, are what
// carry between machines). Usage: pnpm --filter @todo/api bench:verify [--json]
import { createHmac, createPublicKey, timingSafeEqual, verify } from "node:crypto";
import { Bench } from "tinybench";
import { createJwksVerifier } from "../src/auth/jwks.ts";
import { createHs256Verifier, signHs256Token } from "../src/auth/verifier.ts";
import { startTestIssuer } from "../src/testing/jwks-issuer.ts";

const secret = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const hsToken = signHs256Token({ secret, userId: "bench-user", expiresInSeconds: 3600 });
const hs256 = createHs256Verifier({ secret, clockSkewSeconds: 5 });

const issuer = await startTestIssuer();
const edToken = await issuer.tokenFor("bench-user", 3600);
const eddsa = createJwksVerifier({
  jwksUrl: issuer.jwksUrl,
  issuer: issuer.url,
  audience: issuer.url,
  algorithms: ["EdDSA"],
  clockSkewSeconds: 5,
});
const eddsaUncached = createJwksVerifier({
  jwksUrl: issuer.jwksUrl,
  issuer: issuer.url,
  audience: issuer.url,
  algorithms: ["EdDSA"],
  clockSkewSeconds: 5,
  verifiedTokenCacheSize: 0,
});
// Fetch and cache the keys (and, for the first verifier, the verified token) before measuring.
await eddsa.verify(edToken);
await eddsaUncached.verify(edToken);

const split = (token: string) => {
  const [h, p, s] = token.split(".") as [string, string, string];
  return { input: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, "base64url") };
};
const hs = split(hsToken);
const ed = split(edToken);
const edKey = createPublicKey({ key: issuer.keys[0]?.publicJwk as never, format: "jwk" });

const bench = new Bench({ time: 1_000, warmupTime: 200 });
bench
  .add("HS256 bare HMAC check (node:crypto)", () => {
    const mac = createHmac("sha256", secret).update(hs.input).digest();
    if (!timingSafeEqual(mac, hs.signature)) throw new Error("bad");
  })
  .add("HS256 verifier (jsonwebtoken + claims)", async () => {
    await hs256.verify(hsToken);
  })
  .add("EdDSA bare Ed25519 check (node:crypto)", () => {
    if (!verify(null, ed.input, edKey, ed.signature)) throw new Error("bad");
  })
  .add("EdDSA JWKS verifier, first sight of a token (jose + cached keys)", async () => {
    await eddsaUncached.verify(edToken);
  })
  .add("EdDSA JWKS verifier, token seen before (verified-token cache)", async () => {
    await eddsa.verify(edToken);
  });

// Three rounds, each measuring every task once; medians are reported.
const rounds: Record<string, number[]> = {};
for (let round = 0; round < 3; round++) {
  await bench.run();
  for (const task of bench.tasks) {
    const hz = task.result && "throughput" in task.result ? task.result.throughput.mean : 0;
    rounds[task.name] = [...(rounds[task.name] ?? []), hz];
  }
}
await issuer.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const rows = Object.entries(rounds).map(([name, hz]) => ({ name, opsPerSecond: median(hz) }));
const perSecond = (prefix: string) =>
  rows.find((r) => r.name.startsWith(prefix))?.opsPerSecond ?? 0;
const result = {
  rows: rows.map((r) => ({ ...r, microseconds: 1e6 / r.opsPerSecond })),
  ratios: {
    hs256VerifierVsBareHmac: perSecond("HS256 verifier") / perSecond("HS256 bare"),
    eddsaFirstSightVsBareEd25519: perSecond("EdDSA JWKS verifier, first") / perSecond("EdDSA bare"),
    eddsaSeenBeforeVsBareEd25519:
      perSecond("EdDSA JWKS verifier, token seen") / perSecond("EdDSA bare"),
  },
};
if (process.argv.includes("--json")) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  process.stdout.write("| check | verifications/s | µs each |\n| --- | ---: | ---: |\n");
  for (const r of result.rows) {
    process.stdout.write(
      `| ${r.name} | ${Math.round(r.opsPerSecond).toLocaleString("en")} | ${r.microseconds.toFixed(1)} |\n`,
    );
  }
  process.stdout.write("\n| ratio (same run) | value |\n| --- | ---: |\n");
  for (const [name, value] of Object.entries(result.ratios)) {
    process.stdout.write(`| ${name} | ${value.toFixed(2)} |\n`);
  }
}
