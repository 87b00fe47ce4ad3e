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
CREATE TABLE "push_devices" (
    "user_jid" TEXT NOT NULL,
    "device_id" TEXT NOT NULL,
    "registration_id" UUID NOT NULL,
    "device_token" TEXT NOT NULL,
    "bundle_id" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "resource" TEXT,
    "push_service" TEXT,
    "push_node" TEXT,
    "via" TEXT NOT NULL,
    "registered_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "push_devices_pkey" PRIMARY KEY ("user_jid","device_id")
);

-- CreateTable
CREATE TABLE "push_sessions" (
    "session_id" TEXT NOT NULL,
    "user_jid" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "gateway" TEXT NOT NULL,

    CONSTRAINT "push_sessions_pkey" PRIMARY KEY ("session_id")
);

-- CreateTable
CREATE TABLE "push_badges" (
    "user_jid" TEXT NOT NULL,
    "total" INTEGER NOT NULL,

    CONSTRAINT "push_badges_pkey" PRIMARY KEY ("user_jid")
);

-- CreateTable
CREATE TABLE "push_early_unreads" (
    "cause_id" TEXT NOT NULL,
    "user_jid" TEXT NOT NULL,
    "total" INTEGER NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "push_early_unreads_pkey" PRIMARY KEY ("cause_id","user_jid")
);

-- CreateTable
CREATE TABLE "push_replay_boundaries" (
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "end_offset" BIGINT NOT NULL,

    CONSTRAINT "push_replay_boundaries_pkey" PRIMARY KEY ("topic","partition")
);

-- CreateTable
CREATE TABLE "push_sends" (
    "event_id" UUID NOT NULL,
    "user_jid" TEXT NOT NULL,
    "device_id" TEXT NOT NULL,
    "apns_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "content" JSONB NOT NULL,
    "badge" INTEGER,
    "counts_as_unread" BOOLEAN NOT NULL DEFAULT false,
    "state" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "ready_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "status" INTEGER,
    "reason" TEXT,

    CONSTRAINT "push_sends_pkey" PRIMARY KEY ("event_id","user_jid","device_id")
);

-- CreateIndex
CREATE INDEX "push_sessions_user_jid_resource_idx" ON "push_sessions"("user_jid", "resource");

-- CreateIndex
CREATE INDEX "push_early_unreads_occurred_at_idx" ON "push_early_unreads"("occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "push_sends_apns_id_key" ON "push_sends"("apns_id");

-- CreateIndex
CREATE INDEX "push_sends_state_ready_at_idx" ON "push_sends"("state", "ready_at");

-- CreateIndex
CREATE INDEX "push_sends_user_jid_device_id_state_idx" ON "push_sends"("user_jid", "device_id", "state");

