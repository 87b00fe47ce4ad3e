-- applyMigrations creates a schema named like the database user ("hearth"), which the default
-- search_path ("$user", public) would then pick: pin the tables to public, where Prisma looks.
SET LOCAL search_path TO public;

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "accounts" (
    "jid" TEXT NOT NULL,
    "sha1_salt" BYTEA NOT NULL,
    "sha1_iterations" INTEGER NOT NULL,
    "sha1_stored_key" BYTEA NOT NULL,
    "sha1_server_key" BYTEA NOT NULL,
    "sha256_salt" BYTEA NOT NULL,
    "sha256_iterations" INTEGER NOT NULL,
    "sha256_stored_key" BYTEA NOT NULL,
    "sha256_server_key" BYTEA NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("jid")
);

-- CreateTable
CREATE TABLE "roster_entries" (
    "owner" TEXT NOT NULL,
    "contact" TEXT NOT NULL,
    "name" TEXT,
    "groups" TEXT[],
    "subscription" TEXT NOT NULL,
    "ask_out" BOOLEAN NOT NULL,
    "pending_in" BOOLEAN NOT NULL,
    "listed" BOOLEAN NOT NULL,

    CONSTRAINT "roster_entries_pkey" PRIMARY KEY ("owner","contact")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "seq" BIGSERIAL NOT NULL,
    "envelope" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "roster_entries_contact_idx" ON "roster_entries"("contact");

