// CPU time of one token verification by the product's own HS256 verifier, measured on the core the
// servers run on, in the benchmark's run: the numerator of "verification's share of a list
// request's CPU". argv[2] is the secret; the result (microseconds of CPU per verification) is
// printed as JSON.
import { cpuUsage } from "node:process";
import { createHs256Verifier, signHs256Token } from "@todo/api/auth";
import { userIdOf } from "./dataset.ts";

const secret = process.argv[2] ?? "";
const verifier = createHs256Verifier({ secret, clockSkewSeconds: 5 });
const tokens = Array.from({ length: 100 }, (_, i) =>
  signHs256Token({ secret, userId: userIdOf(i + 1), expiresInSeconds: 3600 }),
);
const run = (ms: number) => {
  const before = cpuUsage();
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (const token of tokens) void verifier.verify(token);
    n += tokens.length;
  }
  const cpu = cpuUsage(before);
  return (cpu.user + cpu.system) / n;
};
run(500); // warm-up: JIT, key set-up
process.stdout.write(`${JSON.stringify({ cpuMicrosPerVerification: run(2_000) })}\n`);
