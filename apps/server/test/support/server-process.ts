// Runs the real server entry point (src/main.ts) as its own process, as in production.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export type ServerProcess = {
  baseUrl: string;
  proc: ChildProcess;
  /** Everything it printed so far (JSON log lines). */
  output: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  kill: () => void;
};

const serverDir = join(import.meta.dirname, "../..");

export async function spawnServer(
  env: Record<string, string>,
  /** Node's arguments: the sources through tsx by default, or the compiled server. */
  args = ["--import", "tsx", "src/main.ts"],
): Promise<ServerProcess> {
  const { DATABASE_URL: _d, BETTER_AUTH_SECRET: _s, REDIS_URL: _r, ...inherited } = process.env;
  const proc = spawn(process.execPath, args, {
    cwd: serverDir,
    env: { ...inherited, NODE_ENV: "test", PORT: "0", LOG_LEVEL: "info", ...env },
  });
  let output = "";
  proc.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  proc.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const check = () => {
      const match = /Listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    proc.stdout.on("data", check);
    void exited.then((code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return {
    baseUrl,
    proc,
    output: () => output,
    exited,
    kill: () => {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}
