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
CREATE TABLE "chat_messages" (
    "chat_key" TEXT NOT NULL,
    "stanza_id" TEXT NOT NULL,
    "position" BIGINT NOT NULL,
    "sender" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "client_message_id" TEXT,
    "countable" BOOLEAN NOT NULL,

    CONSTRAINT "chat_messages_pkey" PRIMARY KEY ("chat_key","stanza_id")
);

-- CreateTable
CREATE TABLE "chat_read_states" (
    "user_jid" TEXT NOT NULL,
    "peer_jid" TEXT NOT NULL,
    "pointer_stanza_id" TEXT,
    "pointer_position" BIGINT NOT NULL DEFAULT -1,
    "pointer_moved_by" TEXT,
    "pointer_moved_at" TIMESTAMPTZ(3),
    "unread" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "chat_read_states_pkey" PRIMARY KEY ("user_jid","peer_jid")
);

-- CreateTable
CREATE TABLE "unread_totals" (
    "user_jid" TEXT NOT NULL,
    "total" INTEGER NOT NULL,

    CONSTRAINT "unread_totals_pkey" PRIMARY KEY ("user_jid")
);

-- CreateTable
CREATE TABLE "outbox" (
    "seq" BIGSERIAL NOT NULL,
    "event" JSONB NOT NULL,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "replay_boundaries" (
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "end_offset" BIGINT NOT NULL,

    CONSTRAINT "replay_boundaries_pkey" PRIMARY KEY ("topic","partition")
);

-- CreateIndex
CREATE INDEX "chat_messages_chat_key_recipient_position_idx" ON "chat_messages"("chat_key", "recipient", "position");

-- CreateIndex
CREATE INDEX "chat_messages_chat_key_client_message_id_idx" ON "chat_messages"("chat_key", "client_message_id");

