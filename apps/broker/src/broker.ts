/**
 * Wires the broker together: storage, committed offsets, group coordinator, the API table and
 * the TCP server. One broker per data directory (a lock file says which process owns it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { isProcessAlive, type Logger } from '@hearth/runtime';
import { advertisedHost, type BrokerConfig } from './config';
import { GroupCoordinator } from './groups/group-coordinator';
import { OffsetStore } from './groups/offset-store';
import type { BrokerServices } from './protocol/api';
import { API_MODULES } from './protocol/api-table';
import { BrokerServer } from './server';
import { GroupCommit } from './storage/group-commit';
import { ProducerIdAllocator } from './storage/producer-ids';
import { TopicRegistry } from './storage/topic-registry';

export interface RunningBroker {
  host: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
}

/** A broker's data directory is already used by a live process. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
}

function lockDataDir(dataDir: string): () => void {
  const lock = path.join(dataDir, '.lock');
  try {
    const owner = Number(fs.readFileSync(lock, 'utf8'));
    if (owner && owner !== process.pid && isProcessAlive(owner)) {
      throw new DataDirLockedError(`data directory ${dataDir} is in use by process ${owner}`);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.writeFileSync(lock, String(process.pid));
  return () => fs.rmSync(lock, { force: true });
}

function clusterId(dataDir: string): string {
  const file = path.join(dataDir, 'meta.json');
  if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { clusterId: string }).clusterId;
  const id = randomUUID().replace(/-/g, '').slice(0, 22);
  fs.writeFileSync(file, JSON.stringify({ clusterId: id }));
  return id;
}

export async function startBroker(config: BrokerConfig, log: Logger): Promise<RunningBroker> {
  const dataDir = path.resolve(config.HEARTH_BROKER_DATA_DIR);
  fs.mkdirSync(dataDir, { recursive: true });
  const unlock = lockDataDir(dataDir);
  const fsync = config.HEARTH_BROKER_FSYNC === 'always';
  const groupCommit = new GroupCommit();
  const topics = new TopicRegistry(
    dataDir,
    {
      partitions: config.HEARTH_BROKER_DEFAULT_PARTITIONS,
      autoCreate: config.HEARTH_BROKER_AUTO_CREATE_TOPICS,
      segmentBytes: config.HEARTH_BROKER_SEGMENT_BYTES,
      retentionMs: config.HEARTH_BROKER_RETENTION_MS,
      retentionBytes: config.HEARTH_BROKER_RETENTION_BYTES,
      maxMessageBytes: config.HEARTH_BROKER_MAX_MESSAGE_BYTES,
      maxPartitions: config.HEARTH_BROKER_MAX_PARTITIONS,
      tailCacheBytes: config.HEARTH_BROKER_TAIL_CACHE_BYTES,
      fsync,
    },
    groupCommit,
    log,
  );
  topics.load();
  const offsets = new OffsetStore(dataDir, fsync, log);
  offsets.load();
  const maxProducerId = Math.max(-1, ...topics.all().flatMap((t) => t.partitions.map((p) => p.producers.maxProducerId())));
  const groups = new GroupCoordinator(
    {
      minSessionTimeoutMs: config.HEARTH_BROKER_GROUP_MIN_SESSION_TIMEOUT_MS,
      maxSessionTimeoutMs: config.HEARTH_BROKER_GROUP_MAX_SESSION_TIMEOUT_MS,
      initialRebalanceDelayMs: config.HEARTH_BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS,
    },
    log,
  );
  const advertised = { host: advertisedHost(config), port: config.HEARTH_BROKER_PORT };
  const services: BrokerServices = {
    config, topics, groups, offsets, advertised, log,
    producerIds: new ProducerIdAllocator(dataDir, maxProducerId + 1),
    nodeId: config.HEARTH_BROKER_NODE_ID,
    clusterId: clusterId(dataDir),
    apis: API_MODULES,
  };
  const server = new BrokerServer(
    services,
    {
      maxRequestBytes: config.HEARTH_BROKER_MAX_REQUEST_BYTES,
      maxInFlight: config.HEARTH_BROKER_MAX_IN_FLIGHT_PER_CONNECTION,
      idleTimeoutMs: config.HEARTH_BROKER_IDLE_TIMEOUT_MS,
    },
    log,
  );
  let address: { host: string; port: number };
  try {
    address = await server.listen(config.HEARTH_BROKER_HOST, config.HEARTH_BROKER_PORT);
  } catch (error) {
    unlock();
    throw error;
  }
  advertised.port = config.HEARTH_BROKER_ADVERTISED_PORT ?? address.port; // port 0: advertise the one the OS picked
  const retention = setInterval(() => topics.applyRetention(), config.HEARTH_BROKER_RETENTION_CHECK_MS);
  retention.unref();
  return {
    ...address,
    dataDir,
    async close() {
      clearInterval(retention);
      groups.close();
      await server.close();
      await topics.close();
      await offsets.close();
      unlock();
    },
  };
}
