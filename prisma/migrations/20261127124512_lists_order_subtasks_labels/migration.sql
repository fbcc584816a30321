-- Lists, manual order, subtasks and labels. Every user gets a default list (the Inbox) and every
-- existing task moves into it, placed in the order the list used to show by default (newest
-- first). Cross-user references are impossible by construction: a task names its list and its
-- parent with its own user id ((user_id, list_id) and (user_id, parent_id) are foreign keys).

-- CreateTable
CREATE TABLE "lists" (
    "id" UUID NOT NULL,
    "user_id" VARCHAR(255) NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "color" VARCHAR(7),
    "position" BYTEA NOT NULL,
    "is_default" BOOLEAN,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "version" INTEGER NOT NULL DEFAULT 1,
    "deleted_at" TIMESTAMPTZ(3),
    "change_xid" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "lists_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "lists_user_id_position_id_idx" ON "lists"("user_id", "position", "id");

-- CreateIndex
CREATE INDEX "lists_user_id_change_xid_id_idx" ON "lists"("user_id", "change_xid", "id");

-- CreateIndex
CREATE INDEX "lists_deleted_at_idx" ON "lists"("deleted_at");

-- CreateIndex
CREATE UNIQUE INDEX "lists_user_id_id_key" ON "lists"("user_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "lists_user_id_is_default_key" ON "lists"("user_id", "is_default");

-- AddForeignKey
ALTER TABLE "lists" ADD CONSTRAINT "lists_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A list's writes stamp the writing transaction, as a task's do: the order lists will take in the
-- change feed. They notify no live stream yet (nothing reads lists from the feed so far; a
-- notification would only make every stream of the user read the feed for nothing).
CREATE FUNCTION "lists_change_xid"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END
$$;

CREATE TRIGGER "lists_change_xid" BEFORE INSERT OR UPDATE ON "lists"
  FOR EACH ROW EXECUTE FUNCTION "lists_change_xid"();

-- Every user's Inbox, made with the users row by whoever inserts it (the API, the seed, an
-- operator): the user's first list, at fractional-indexing key "a0". Existing users get theirs here.
CREATE FUNCTION "users_inbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "lists" ("id", "user_id", "name", "position", "is_default")
  VALUES (gen_random_uuid(), NEW."id", 'Inbox', convert_to('a0', 'UTF8'), true);
  RETURN NULL;
END
$$;

CREATE TRIGGER "users_inbox" AFTER INSERT ON "users"
  FOR EACH ROW EXECUTE FUNCTION "users_inbox"();

INSERT INTO "lists" ("id", "user_id", "name", "position", "is_default")
SELECT gen_random_uuid(), "id", 'Inbox', convert_to('a0', 'UTF8'), true FROM "users";

-- AlterTable: the new columns, filled before they become required.
ALTER TABLE "tasks" ADD COLUMN     "labels" VARCHAR(50)[] DEFAULT ARRAY[]::VARCHAR(50)[],
ADD COLUMN     "list_id" UUID,
ADD COLUMN     "parent_id" UUID,
ADD COLUMN     "position" BYTEA;

-- Existing tasks go to their user's Inbox, newest first. Their keys are fractional-indexing integer
-- keys of one length ("d" and four base-62 digits: up to 14,776,336 tasks per user), so any later
-- move can place a task between two of them.
UPDATE "tasks" SET "list_id" = "placed"."list_id", "position" = "placed"."position"
  FROM (
    SELECT "tasks"."id", "lists"."id" AS "list_id",
           convert_to('d'
             || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', ("n" / 238328 % 62)::int + 1, 1)
             || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', ("n" / 3844 % 62)::int + 1, 1)
             || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', ("n" / 62 % 62)::int + 1, 1)
             || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', ("n" % 62)::int + 1, 1),
             'UTF8') AS "position"
      FROM (
        SELECT "id", "user_id",
               row_number() OVER (PARTITION BY "user_id" ORDER BY "created_at" DESC, "id" DESC) - 1 AS "n"
          FROM "tasks"
      ) AS "tasks"
      JOIN "lists" ON "lists"."user_id" = "tasks"."user_id" AND "lists"."is_default"
  ) AS "placed"
 WHERE "tasks"."id" = "placed"."id";

ALTER TABLE "tasks" ALTER COLUMN "list_id" SET NOT NULL,
ALTER COLUMN "position" SET NOT NULL;

-- CreateIndex
CREATE INDEX "tasks_user_id_list_id_parent_id_position_id_idx" ON "tasks"("user_id", "list_id", "parent_id", "position", "id");

-- CreateIndex
CREATE UNIQUE INDEX "tasks_user_id_id_key" ON "tasks"("user_id", "id");

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_user_id_list_id_fkey" FOREIGN KEY ("user_id", "list_id") REFERENCES "lists"("user_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_user_id_parent_id_fkey" FOREIGN KEY ("user_id", "parent_id") REFERENCES "tasks"("user_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
