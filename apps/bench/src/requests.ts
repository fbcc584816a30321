// The requests of a scenario, drawn in advance by both load generators (closed loop: generator.ts,
// open loop: open-loop.ts), for the product's two surfaces and the baselines.
import { inboxIdOf, taskIdOf, userIdOf } from "./dataset.ts";

export type Target = "b0" | "b1" | "b2" | "rest" | "trpc";

/** What each scenario does, as the report describes it. */
export const SCENARIO_DESCRIPTIONS = {
  S1: "first page of a user's list (20), uniform users",
  S2: "create a task",
  S3: "toggle a task's completion",
  S4: "80% S1, 10% S2, 10% S3, users drawn from a Zipf distribution",
  S5: "S1 with 10% invalid tokens (B0 has no auth, so it answers those 200)",
  S6: "first page of a user's Inbox in manual order (top level, position ascending, 20), uniform users",
  S7: "move a task right after another task of the same user (Inbox, top level), uniform users",
} as const;
export type Scenario = keyof typeof SCENARIO_DESCRIPTIONS;

export type Draw = { method: "GET" | "POST" | "PATCH"; path: string; token: string; body: string };
type Op = "list" | "create" | "toggle" | "page" | "move";

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

  // One of the user's dataset tasks (all in the Inbox, top level), i in 1..tasksPerUser.
  const randomTask = () => 1 + Math.floor(Math.random() * config.tasksPerUser);
  /** A task and another one of the same user, for a move: the first is placed after the second. */
  function twoTasks(): [number, number] {
    if (config.tasksPerUser < 2) throw new Error("a move needs two tasks per user");
    const moved = randomTask();
    // Any of the others, uniformly: a task cannot be placed after itself.
    const after =
      1 + ((moved + Math.floor(Math.random() * (config.tasksPerUser - 1))) % config.tasksPerUser);
    return [moved, after];
  }

  function request(op: Op, user: number, invalidToken: boolean): Draw {
    const userId = userIdOf(user);
    const token = invalidToken ? `${tokenOf(user).slice(0, -4)}AAAA` : tokenOf(user);
    const [task, after] = op === "move" ? twoTasks() : op === "toggle" ? [randomTask(), 0] : [0, 0];
    const taskId = task ? taskIdOf(userId, task) : "";
    const afterId = after ? taskIdOf(userId, after) : "";
    const listId = op === "page" ? inboxIdOf(userId) : "";
    // B2 answers tRPC's requests, with the product's procedure names and inputs.
    if (config.target === "trpc" || config.target === "b2") {
      if (op === "list" || op === "page") {
        const page =
          op === "list"
            ? { limit: 20 }
            : { listId, parentId: null, sort: "position", order: "asc", limit: 20 };
        const input = encodeURIComponent(JSON.stringify(page));
        return { method: "GET", path: `/trpc/task.list?input=${input}`, token, body: "" };
      }
      if (op === "create") {
        return { method: "POST", path: "/trpc/task.create", token, body: '{"title":"bench"}' };
      }
      if (op === "move") {
        const body = JSON.stringify({ id: taskId, afterId });
        return { method: "POST", path: "/trpc/task.move", token, body };
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
    if (op === "page") {
      const query = `listId=${listId}&parentId=null&sort=position&order=asc&limit=20`;
      return { method: "GET", path: `${base}?${query}`, token, body: "" };
    }
    if (op === "create") return { method: "POST", path: base, token, body: '{"title":"bench"}' };
    if (op === "move") {
      const body = JSON.stringify({ afterId });
      return { method: "POST", path: `${base}/${taskId}/move`, token, body };
    }
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
      case "S6":
        return request("page", uniformUser(), false);
      case "S7":
        return request("move", uniformUser(), false);
    }
  }

  return Array.from({ length: count }, draw);
}
