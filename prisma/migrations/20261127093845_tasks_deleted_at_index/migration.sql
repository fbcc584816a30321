-- The tombstone purge looks for tombstones deleted before the retention horizon, of every user:
-- without an index led by deleted_at that is a sequential scan of the whole table every round.
-- CreateIndex
CREATE INDEX "tasks_deleted_at_idx" ON "tasks"("deleted_at");
