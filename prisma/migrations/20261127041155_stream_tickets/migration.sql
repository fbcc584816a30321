-- CreateTable
CREATE TABLE "stream_tickets" (
    "digest" BYTEA NOT NULL,
    "user_id" VARCHAR(255) NOT NULL,
    "token_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stream_tickets_pkey" PRIMARY KEY ("digest")
);

-- CreateIndex
CREATE INDEX "stream_tickets_expires_at_idx" ON "stream_tickets"("expires_at");
