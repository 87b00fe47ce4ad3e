-- Same workaround as the init migration (being fixed separately): applyMigrations creates a schema
-- named like the database user, which the default search_path would pick; pin to public.
SET LOCAL search_path TO public;

-- CreateTable
CREATE TABLE "message_dedupe" (
    "sender" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "stanza_id" TEXT NOT NULL,
    "accepted_at" TIMESTAMPTZ(3) NOT NULL,
    "confirmed" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "message_dedupe_pkey" PRIMARY KEY ("sender","client_id")
);

-- CreateIndex
CREATE INDEX "message_dedupe_accepted_at_idx" ON "message_dedupe"("accepted_at");

