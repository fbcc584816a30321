-- CreateEnum
CREATE TYPE "Priority" AS ENUM ('low', 'medium', 'high');

-- CreateTable
CREATE TABLE "users" (
    "id" VARCHAR(255) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tasks" (
    "id" UUID NOT NULL,
    "user_id" VARCHAR(255) NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "description" VARCHAR(10000),
    "completed" BOOLEAN NOT NULL DEFAULT false,
    "completed_at" TIMESTAMPTZ(3),
    "priority" "Priority" NOT NULL DEFAULT 'medium',
    "due_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "version" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "tasks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "tasks_user_id_created_at_id_idx" ON "tasks"("user_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "tasks_user_id_updated_at_id_idx" ON "tasks"("user_id", "updated_at", "id");

-- CreateIndex
CREATE INDEX "tasks_user_id_due_at_id_idx" ON "tasks"("user_id", "due_at", "id");

-- CreateIndex
CREATE INDEX "tasks_user_id_priority_id_idx" ON "tasks"("user_id", "priority", "id");

-- CreateIndex
CREATE INDEX "tasks_user_id_title_id_idx" ON "tasks"("user_id", "title", "id");

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
