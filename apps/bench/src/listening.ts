import type { ChildProcess } from "node:child_process";

/**
 * The URL a started server prints ("Listening on http://…"). From then on its output (a log line
 * per request) is read and dropped, so it never blocks on a full pipe and is never kept.
 */
export function listeningUrl(proc: ChildProcess, name: string): Promise<string> {
  let output = "";
  return new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match?.[1]) {
        proc.stdout?.off("data", onData);
        proc.stderr?.off("data", onData);
        proc.stdout?.resume();
        proc.stderr?.resume();
        resolve(match[1]);
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.on("exit", (code) => reject(new Error(`${name} exited (${code}):\n${output}`)));
  });
}
