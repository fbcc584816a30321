-- The rules of lists and subtasks, kept by the database whoever writes (the API, the seed, an
-- operator in Prisma Studio), so that no code path can break them:
--   * a subtask's parent is a live top-level task of the same user and list (one level only), and
--     a task with live subtasks cannot become a subtask;
--   * subtasks follow their parent: to another list, and into the tombstones when it is deleted;
--   * deleting a list deletes its tasks (as tombstones, for the change feed);
--   * the Inbox (the default list) cannot be deleted;
--   * list writes notify live streams, as task writes do (lists are in the change feed), but for
--     the Inbox as every user is born with it.
-- Each statement inside a trigger function reads a fresh snapshot, after the row it fires for was
-- locked: a writer that locked the parent (or the list) first has committed by then, and what it
-- wrote is seen.

-- Violations raise check_violation (23514) naming the rule as the constraint, which the API maps
-- to a clear 400; the API checks the same rules first, so these fire only on a race or a bug.
CREATE FUNCTION "tasks_subtask_rules"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A tombstone needs no valid parent (it is being deleted with it).
  IF NEW."deleted_at" IS NOT NULL THEN
    RETURN NEW;
  END IF;
  IF NEW."parent_id" = NEW."id" THEN
    RAISE EXCEPTION 'a task cannot be its own subtask'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_subtask_parent';
  END IF;
  -- FOR SHARE: the parent cannot be deleted, moved or made a subtask until this commits.
  PERFORM 1 FROM "tasks"
    WHERE "user_id" = NEW."user_id" AND "id" = NEW."parent_id" AND "list_id" = NEW."list_id"
      AND "parent_id" IS NULL AND "deleted_at" IS NULL
    FOR SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'a subtask''s parent must be a live top-level task of the same list'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_subtask_parent';
  END IF;
  IF TG_OP = 'UPDATE' AND OLD."parent_id" IS NULL AND EXISTS (
    SELECT 1 FROM "tasks"
     WHERE "user_id" = OLD."user_id" AND "list_id" = OLD."list_id" AND "parent_id" = OLD."id"
       AND "deleted_at" IS NULL
  ) THEN
    RAISE EXCEPTION 'a task with subtasks cannot become a subtask'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_subtask_depth';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER "tasks_subtask_rules" BEFORE INSERT OR UPDATE OF "parent_id", "list_id", "deleted_at"
  ON "tasks" FOR EACH ROW WHEN (NEW."parent_id" IS NOT NULL)
  EXECUTE FUNCTION "tasks_subtask_rules"();

-- A top-level task's subtasks follow it: to its new list (tombstones too, so that a parent and its
-- subtasks always share a list), and into the tombstones when it is deleted. Live subtasks get a
-- new version, as any change a client must see.
CREATE FUNCTION "tasks_subtasks_follow"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."deleted_at" IS NOT NULL AND OLD."deleted_at" IS NULL THEN
    UPDATE "tasks"
       SET "deleted_at" = NEW."deleted_at", "list_id" = NEW."list_id",
           "version" = "version" + 1, "updated_at" = now()
     WHERE "user_id" = OLD."user_id" AND "list_id" = OLD."list_id" AND "parent_id" = OLD."id"
       AND "deleted_at" IS NULL;
  END IF;
  IF NEW."list_id" <> OLD."list_id" THEN
    UPDATE "tasks"
       SET "list_id" = NEW."list_id",
           "version" = "version" + CASE WHEN "deleted_at" IS NULL THEN 1 ELSE 0 END,
           "updated_at" = CASE WHEN "deleted_at" IS NULL THEN now() ELSE "updated_at" END
     WHERE "user_id" = OLD."user_id" AND "list_id" = OLD."list_id" AND "parent_id" = OLD."id";
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "tasks_subtasks_follow" AFTER UPDATE OF "list_id", "deleted_at" ON "tasks"
  FOR EACH ROW
  WHEN (OLD."parent_id" IS NULL AND NEW."parent_id" IS NULL AND (
    NEW."list_id" <> OLD."list_id" OR (NEW."deleted_at" IS NOT NULL AND OLD."deleted_at" IS NULL)))
  EXECUTE FUNCTION "tasks_subtasks_follow"();

-- Deleting a list deletes its live tasks, as tombstones in the same transaction.
CREATE FUNCTION "lists_delete_tasks"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "tasks"
     SET "deleted_at" = NEW."deleted_at", "version" = "version" + 1, "updated_at" = now()
   WHERE "user_id" = NEW."user_id" AND "list_id" = NEW."id" AND "deleted_at" IS NULL;
  RETURN NULL;
END
$$;

CREATE TRIGGER "lists_delete_tasks" AFTER UPDATE OF "deleted_at" ON "lists"
  FOR EACH ROW WHEN (NEW."deleted_at" IS NOT NULL AND OLD."deleted_at" IS NULL)
  EXECUTE FUNCTION "lists_delete_tasks"();

CREATE FUNCTION "lists_keep_inbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the Inbox cannot be deleted'
    USING ERRCODE = 'check_violation', CONSTRAINT = 'lists_keep_inbox';
END
$$;

CREATE TRIGGER "lists_keep_inbox" BEFORE UPDATE OF "deleted_at", "is_default" ON "lists"
  FOR EACH ROW WHEN (OLD."is_default" AND (NEW."deleted_at" IS NOT NULL OR NEW."is_default" IS NULL))
  EXECUTE FUNCTION "lists_keep_inbox"();

-- List writes stamp their transaction and notify live streams with the tasks' function: lists are
-- in the change feed now. The Inbox every user is born with is part of the account rather than a
-- change: it is only stamped (the function of the previous migration), and enters the feed (and
-- wakes streams) once it changes, so a client that ignores lists sees the feed it always saw.
DROP TRIGGER "lists_change_xid" ON "lists";
CREATE TRIGGER "lists_change_xid" BEFORE INSERT OR UPDATE ON "lists"
  FOR EACH ROW WHEN (NEW."is_default" AND NEW."version" = 1)
  EXECUTE FUNCTION "lists_change_xid"();
CREATE TRIGGER "lists_change_notify" BEFORE INSERT OR UPDATE ON "lists"
  FOR EACH ROW WHEN (NEW."is_default" IS NULL OR NEW."version" > 1)
  EXECUTE FUNCTION "tasks_change_xid"();
