-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "consumer_checkpoints" (
    "consumer" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "next_offset" BIGINT NOT NULL,

    CONSTRAINT "consumer_checkpoints_pkey" PRIMARY KEY ("consumer","topic","partition")
);

-- CreateTable
CREATE TABLE "archive_owners" (
    "owner" TEXT NOT NULL,
    "last_seq" BIGINT NOT NULL DEFAULT 0,
    "message_count" BIGINT NOT NULL DEFAULT 0,
    "deleted_before" TIMESTAMPTZ(3),

    CONSTRAINT "archive_owners_pkey" PRIMARY KEY ("owner")
);

-- CreateTable
CREATE TABLE "archive_messages" (
    "owner" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "stanza_id" TEXT NOT NULL,
    "peer" TEXT NOT NULL,
    "peer_jid" TEXT NOT NULL,
    "outgoing" BOOLEAN NOT NULL,
    "accepted_at" TIMESTAMPTZ(3) NOT NULL,
    "conversation_id" TEXT NOT NULL,
    "stanza" TEXT NOT NULL,

    CONSTRAINT "archive_messages_pkey" PRIMARY KEY ("owner","seq")
);

-- CreateTable
CREATE TABLE "archive_chats" (
    "owner" TEXT NOT NULL,
    "peer" TEXT NOT NULL,
    "last_seq" BIGINT NOT NULL,
    "last_stanza_id" TEXT NOT NULL,
    "last_accepted_at" TIMESTAMPTZ(3) NOT NULL,
    "message_count" BIGINT NOT NULL,

    CONSTRAINT "archive_chats_pkey" PRIMARY KEY ("owner","peer")
);

-- CreateTable
CREATE TABLE "archive_conversations" (
    "owner" TEXT NOT NULL,
    "conversation_id" TEXT NOT NULL,
    "peer" TEXT NOT NULL,
    "first_seq" BIGINT NOT NULL,
    "last_seq" BIGINT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "last_at" TIMESTAMPTZ(3) NOT NULL,
    "last_stanza_id" TEXT NOT NULL,
    "message_count" BIGINT NOT NULL,

    CONSTRAINT "archive_conversations_pkey" PRIMARY KEY ("owner","conversation_id")
);

-- CreateTable
CREATE TABLE "conversation_trackers" (
    "owner" TEXT NOT NULL,
    "peer" TEXT NOT NULL,
    "conversation_id" TEXT NOT NULL,
    "last_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "conversation_trackers_pkey" PRIMARY KEY ("owner","peer")
);

-- CreateTable
CREATE TABLE "archive_preferences" (
    "owner" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "effective_at" TIMESTAMPTZ(3) NOT NULL,
    "mode" TEXT NOT NULL,
    "always" TEXT[],
    "never" TEXT[],

    CONSTRAINT "archive_preferences_pkey" PRIMARY KEY ("owner","event_id")
);

-- CreateTable
CREATE TABLE "archive_retention" (
    "id" INTEGER NOT NULL,
    "before" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "archive_retention_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "archive_messages_owner_peer_seq_idx" ON "archive_messages"("owner", "peer", "seq");

-- CreateIndex
CREATE INDEX "archive_messages_accepted_at_idx" ON "archive_messages"("accepted_at");

-- CreateIndex
CREATE UNIQUE INDEX "archive_messages_owner_stanza_id_key" ON "archive_messages"("owner", "stanza_id");

-- CreateIndex
CREATE INDEX "archive_chats_owner_last_seq_idx" ON "archive_chats"("owner", "last_seq");

-- CreateIndex
CREATE INDEX "archive_conversations_owner_first_seq_idx" ON "archive_conversations"("owner", "first_seq");

-- CreateIndex
CREATE INDEX "archive_conversations_owner_last_seq_idx" ON "archive_conversations"("owner", "last_seq");

-- CreateIndex
CREATE INDEX "archive_preferences_owner_effective_at_idx" ON "archive_preferences"("owner", "effective_at");

