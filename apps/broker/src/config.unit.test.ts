import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@hearth/runtime';
import { advertisedHost, loadBrokerConfig } from './config';

describe('broker configuration', () => {
  it('reads environment variables and lets flags override them', () => {
    const config = loadBrokerConfig(['--port', '19092', '--data-dir=/tmp/x', '--max-request-bytes', '4096'], {
      HEARTH_BROKER_PORT: '1', HEARTH_BROKER_FSYNC: 'never', HEARTH_BROKER_DEFAULT_PARTITIONS: '3',
    });
    assert.equal(config.HEARTH_BROKER_PORT, 19092);
    assert.equal(config.HEARTH_BROKER_DATA_DIR, '/tmp/x');
    assert.equal(config.HEARTH_BROKER_MAX_REQUEST_BYTES, 4096);
    assert.equal(config.HEARTH_BROKER_FSYNC, 'never');
    assert.equal(config.HEARTH_BROKER_DEFAULT_PARTITIONS, 3);
  });

  it('defaults to a durable, keep-everything broker on 9092', () => {
    const config = loadBrokerConfig([], {});
    assert.equal(config.HEARTH_BROKER_PORT, 9092);
    assert.equal(config.HEARTH_BROKER_DATA_DIR, './.hearth/broker');
    assert.equal(config.HEARTH_BROKER_FSYNC, 'always');
    assert.equal(config.HEARTH_BROKER_AUTO_CREATE_TOPICS, true);
    assert.equal(config.HEARTH_BROKER_RETENTION_MS, -1);
    assert.equal(config.HEARTH_BROKER_RETENTION_BYTES, -1);
  });

  it('names the variable or flag that is wrong', () => {
    assert.throws(() => loadBrokerConfig(['--colour', 'red'], {}), (e) => e instanceof ConfigError && /--colour/.test(e.message));
    assert.throws(() => loadBrokerConfig(['--port'], {}), ConfigError);
    assert.throws(() => loadBrokerConfig([], { HEARTH_BROKER_FSYNC: 'sometimes' }), /HEARTH_BROKER_FSYNC/);
  });

  it('advertises an address clients can reach', () => {
    assert.equal(advertisedHost(loadBrokerConfig(['--host', '0.0.0.0'], {})), '127.0.0.1');
    assert.equal(advertisedHost(loadBrokerConfig(['--host', 'localhost'], {})), '127.0.0.1');
    assert.equal(advertisedHost(loadBrokerConfig(['--host', '10.1.2.3'], {})), '10.1.2.3');
    assert.equal(advertisedHost(loadBrokerConfig(['--host', '0.0.0.0'], { HEARTH_BROKER_ADVERTISED_HOST: 'broker.local' })), 'broker.local');
  });
});
