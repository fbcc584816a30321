import { describe, expect, it } from "vitest";
import { AppError } from "../errors.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";

const id = "7b0c3f3e-8f6b-4a8e-9d55-0a9c1b2e3f40";

describe("cursor", () => {
  it("round-trips", () => {
    const cursor = { sort: "dueAt", order: "asc", value: null, id } as const;
    expect(decodeCursor(encodeCursor(cursor), "dueAt", "asc")).toEqual(cursor);
  });

  it.each([
    ["not base64 JSON", "!!!"],
    ["another sort", encodeCursor({ sort: "title", order: "asc", value: "a", id })],
    [
      "another order",
      encodeCursor({ sort: "createdAt", order: "desc", value: new Date().toISOString(), id }),
    ],
    ["a bad date", encodeCursor({ sort: "createdAt", order: "asc", value: "yesterday", id })],
    [
      "a null for a non-null key",
      encodeCursor({ sort: "createdAt", order: "asc", value: null, id }),
    ],
    [
      "a bad id",
      Buffer.from(JSON.stringify({ s: "createdAt", o: "asc", v: null, i: "1" })).toString(
        "base64url",
      ),
    ],
  ])("refuses %s as BAD_REQUEST", (_why, raw) => {
    const decode = () => decodeCursor(raw, "createdAt", "asc");
    expect(decode).toThrow(AppError);
    expect(decode).toThrow(/Invalid cursor/);
  });

  it("refuses an unknown priority", () => {
    const raw = encodeCursor({ sort: "priority", order: "asc", value: "urgent", id });
    expect(() => decodeCursor(raw, "priority", "asc")).toThrow(/Invalid cursor/);
  });
});
