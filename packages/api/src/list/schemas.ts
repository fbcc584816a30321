import { z } from "zod";
import { text, zIsoDateTime, zListId, zVersion } from "../fields.ts";

/** How many lists (the Inbox included) a user may have. */
export const LISTS_MAX = 200;

const zName = text({ max: 100, multiline: false, trim: true });
/** `#rrggbb`. */
const zColor = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, "Must be a color as #rrggbb")
  .transform((c) => c.toLowerCase());

/** A list as both API surfaces return it; dates are ISO 8601 strings in UTC. */
export const zList = z
  .object({
    id: z.string(),
    name: z.string(),
    color: z.string().nullable(),
    /** Opaque; sorts the list among the user's lists, byte by byte. */
    position: z.string(),
    /** The Inbox: every user has exactly one; it cannot be deleted. */
    isDefault: z.boolean(),
    version: z.number().int(),
    createdAt: zIsoDateTime,
    updatedAt: zIsoDateTime,
  })
  .meta({ id: "List" });
export type ListDto = z.infer<typeof zList>;

export const zListCreate = z
  .strictObject({
    /**
     * A client-chosen id (UUID): creating again with the same id, name and color creates nothing
     * and answers the list; with another name or color, or an id that is not free, CONFLICT.
     */
    id: zListId.optional(),
    name: zName,
    color: zColor.nullish(),
  })
  .meta({ id: "ListCreate" });
export type ListCreate = z.infer<typeof zListCreate>;

const hasEdit = (input: { name?: unknown; color?: unknown; afterId?: unknown }) =>
  input.name !== undefined || input.color !== undefined || input.afterId !== undefined;
const NOTHING_TO_UPDATE = "Nothing to update: give at least one of name, color, afterId";

/** A partial change (REST PATCH body): the list id comes from the path. */
export const zListPatch = z
  .strictObject({
    /** When given, the change applies only if the list is still at this version (else CONFLICT). */
    version: zVersion.optional(),
    name: zName.optional(),
    color: zColor.nullable().optional(),
    /** Reorders the list: right after this list; null: first. */
    afterId: zListId.nullable().optional(),
  })
  .meta({ id: "ListPatch" });

export const zListUpdate = zListPatch
  .extend({ id: zListId })
  .refine(hasEdit, { message: NOTHING_TO_UPDATE });
export type ListUpdate = z.infer<typeof zListUpdate>;

export const zListIdInput = z.strictObject({ id: zListId });
export const zListVersionedIdInput = z.strictObject({ id: zListId, version: zVersion.optional() });

/** What a list's deletion took with it. */
export const zListDeleted = z
  .object({ id: z.string(), deletedTasks: z.number().int() })
  .meta({ id: "ListDeleted" });
