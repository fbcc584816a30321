import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const secretPath = (dataDir: string) => join(dataDir, "dev-secret");

/** The development secret kept beside the embedded data, or undefined if none was made yet. */
export async function readDevSecret(dataDir: string): Promise<string | undefined> {
  try {
    return (await readFile(secretPath(dataDir), "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Reads the development secret, making one (readable by this user only) the first time. */
export async function loadOrCreateDevSecret(
  dataDir: string,
): Promise<{ secret: string; created: boolean; path: string }> {
  const path = secretPath(dataDir);
  const existing = await readDevSecret(dataDir);
  if (existing) return { secret: existing, created: false, path };
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  await writeFile(path, `${secret}\n`, { mode: 0o600, flag: "wx" }).catch(async (error) => {
    // Another process made it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  });
  return { secret: (await readDevSecret(dataDir)) ?? secret, created: true, path };
}
