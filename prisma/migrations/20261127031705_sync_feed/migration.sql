-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "change_xid" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "create_digest" BYTEA,
ADD COLUMN     "deleted_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "purged_id" UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000'::uuid,
ADD COLUMN     "purged_xid" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "user_id" VARCHAR(255) NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "request_digest" BYTEA NOT NULL,
    "outcome" JSON,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("user_id","key")
);

-- CreateIndex
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys"("created_at");

-- CreateIndex
CREATE INDEX "tasks_user_id_change_xid_id_idx" ON "tasks"("user_id", "change_xid", "id");

-- The change feed's order: every insert and update stamps the id of the transaction that wrote the
-- row (a 64-bit, never wrapping xid8, as bigint). A trigger, so that every writer (the API, the
-- seed, an operator in Prisma Studio) moves the row forward in the feed.
CREATE FUNCTION "tasks_change_xid"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END
$$;

CREATE TRIGGER "tasks_change_xid" BEFORE INSERT OR UPDATE ON "tasks"
  FOR EACH ROW EXECUTE FUNCTION "tasks_change_xid"();
