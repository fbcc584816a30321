-- Live updates: a committed write of a user's tasks notifies every listening server instance on the
-- channel task_changes. The payload carries only the user id, the writing transaction and when it
-- began (for the fan-out latency); subscribers read the changes themselves from the feed, so
-- nothing depends on the payload's size and nothing is lost with a notification. PostgreSQL folds
-- identical notifications of one transaction: one per transaction and user.
CREATE OR REPLACE FUNCTION "tasks_change_xid"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id()::text::bigint;
  PERFORM pg_notify('task_changes', json_build_object(
    'u', NEW.user_id,
    'x', NEW.change_xid::text,
    't', floor(extract(epoch FROM now()) * 1000)::bigint
  )::text);
  RETURN NEW;
END
$$;
