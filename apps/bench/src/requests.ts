// The requests of a scenario, drawn in advance by both load generators (closed loop: generator.ts,
// open loop: open-loop.ts), for the product's two surfaces and the baselines.
import { taskIdOf, userIdOf } from "./dataset.ts";

export type Target = "b0" | "b1" | "b2" | "rest" | "trpc";
export type Scenario = "S1" | "S2" | "S3" | "S4" | "S5";
export type Draw = { method: "GET" | "POST" | "PATCH"; path: string; token: string; body: string };
type Op = "list" | "create" | "toggle";

export type DrawConfig = {
  target: Target;
  scenario: Scenario;
  users: number;
  tasksPerUser: number;
  tokenOf: (user: number) => string;
};

/** `count` requests of the scenario, drawn at random (users uniform, or Zipf for S4). */
export function drawRequests(config: DrawConfig, count: number): Draw[] {
  const { tokenOf } = config;
  // Zipf (s = 1) over users, for S4: a few users are very busy, most are not.
  const zipfCdf = (() => {
    const weights = Array.from({ length: config.users }, (_, k) => 1 / (k + 1));
    const total = weights.reduce((a, b) => a + b, 0);
    let acc = 0;
    return weights.map((w) => (acc += w / total));
  })();
  function zipfUser(): number {
    const r = Math.random();
    let lo = 0;
    let hi = zipfCdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((zipfCdf[mid] ?? 1) < r) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }
  const uniformUser = () => 1 + Math.floor(Math.random() * config.users);

  function request(op: Op, user: number, invalidToken: boolean): Draw {
    const userId = userIdOf(user);
    const token = invalidToken ? `${tokenOf(user).slice(0, -4)}AAAA` : tokenOf(user);
    const taskId =
      op === "toggle" ? taskIdOf(userId, 1 + Math.floor(Math.random() * config.tasksPerUser)) : "";
    // B2 answers tRPC's requests, with the product's procedure names and inputs.
    if (config.target === "trpc" || config.target === "b2") {
      if (op === "list") {
        const input = encodeURIComponent(JSON.stringify({ limit: 20 }));
        return { method: "GET", path: `/trpc/task.list?input=${input}`, token, body: "" };
      }
      if (op === "create") {
        return { method: "POST", path: "/trpc/task.create", token, body: '{"title":"bench"}' };
      }
      return {
        method: "POST",
        path: "/trpc/task.toggle",
        token,
        body: JSON.stringify({ id: taskId }),
      };
    }
    const base = `/api/${userId}/tasks`;
    if (op === "list") return { method: "GET", path: `${base}?limit=20`, token, body: "" };
    if (op === "create") return { method: "POST", path: base, token, body: '{"title":"bench"}' };
    return { method: "PATCH", path: `${base}/${taskId}/complete`, token, body: "" };
  }

  function draw(): Draw {
    switch (config.scenario) {
      case "S1":
        return request("list", uniformUser(), false);
      case "S2":
        return request("create", uniformUser(), false);
      case "S3":
        return request("toggle", uniformUser(), false);
      case "S4": {
        const r = Math.random();
        const op: Op = r < 0.8 ? "list" : r < 0.9 ? "create" : "toggle";
        return request(op, zipfUser(), false);
      }
      case "S5":
        return request("list", uniformUser(), Math.random() < 0.1);
    }
  }

  return Array.from({ length: count }, draw);
}
