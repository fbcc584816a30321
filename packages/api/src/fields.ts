import { z } from "zod";

// The field schemas every domain shares: zod's messages, bounded text, ids, dates and versions.

// Clients read these messages in `issues`: plain words instead of zod's defaults ("Invalid input:
// expected string, received undefined"). Set once for the process; a schema's own message wins.
const ARTICLE: Record<string, string> = {
  object: "an object",
  array: "an array",
  int: "an integer",
};
z.config({
  customError: (issue) => {
    if (issue.code === "invalid_type") {
      if (issue.input === undefined) return "Required";
      return `Must be ${ARTICLE[issue.expected] ?? `a ${issue.expected}`}`;
    }
    if (issue.code === "invalid_value" && issue.values.every((v) => typeof v === "string")) {
      return `Must be one of: ${issue.values.join(", ")}`;
    }
    return undefined;
  },
});

// Tabs and newlines are fine in a description; no other control character (NUL cannot even be
// stored in PostgreSQL text) is accepted anywhere.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_IN_LINE = /[\u0000-\u001F\u007F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Lengths count characters (code points), as PostgreSQL's VARCHAR(n) does. */
const codePoints = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export function text(options: { max: number; multiline: boolean; trim?: boolean }) {
  const control = options.multiline ? CONTROL_IN_TEXT : CONTROL_IN_LINE;
  const tooLong = `Must be at most ${options.max} characters`;
  // A cheap bound first (a character is at most two UTF-16 units; trimming may drop a little
  // more), so huge strings are refused before any per-character work, with one message: it
  // aborts the checks after it, which would say the same.
  const raw = z.string().max(options.max * 2 + 64, { message: tooLong, abort: true });
  return (
    (options.trim ? raw.trim().min(1, "Must not be empty") : raw)
      .refine((s) => s.isWellFormed(), "Must be valid Unicode (no lone surrogates)")
      .refine((s) => !control.test(s), "Must not contain control characters")
      .refine((s) => codePoints(s) <= options.max, tooLong)
      // Documents the real bound (JSON Schema counts code points too), not the cheap one.
      .meta({ maxLength: options.max })
  );
}

// Ids in any case are the same id (PostgreSQL's uuid ignores it; Swift's UUID writes upper case):
// the domain compares ids as the database returns them, lower case.
export const zTaskId = z
  .uuid({ message: "Must be a task id (UUID)" })
  .overwrite((id) => id.toLowerCase());
export const zListId = z
  .uuid({ message: "Must be a list id (UUID)" })
  .overwrite((id) => id.toLowerCase());

/** An ISO 8601 date-time with an explicit offset (`Z` or `+02:00`), parsed to a Date. */
export const zDateTime = z.iso
  .datetime({ offset: true, message: "Must be an ISO 8601 date-time with offset" })
  .transform((s) => new Date(s));

export const zVersion = z.number().int().min(1).max(2_147_483_647);

/** An ISO 8601 date-time as both surfaces return it (UTC). */
export const zIsoDateTime = z.iso.datetime({ offset: true });
