import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('operations settings', () => {
  test('defaults keep the single-process behaviour, a pool of 20 and the shipped load-shedding thresholds', () => {
    const config = loadConfig({});
    expect(config.workers).toEqual({
      inProcess: true,
      dispatchIntervalMs: 10_000,
      staleAfterMs: 900_000,
    });
    expect(config.loadShedding).toEqual({
      maxEventLoopDelayMs: 500,
      maxEventLoopUtilization: undefined,
      maxPoolWaitMs: 1000,
      retryAfterSeconds: 5,
    });
    expect(config.databasePoolMax).toBe(20);
  });

  test('scale-out and load-shedding variables are parsed', () => {
    const config = loadConfig({
      IN_PROCESS_WORKERS: 'off',
      GDPR_DISPATCH_INTERVAL_SECONDS: '2',
      GDPR_STALE_AFTER_SECONDS: '30',
      LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
      LOAD_SHED_EVENT_LOOP_UTILIZATION: '0.95',
      LOAD_SHED_POOL_WAIT_MS: '250',
      DATABASE_POOL_MAX: '40',
      LOAD_SHED_RETRY_AFTER_SECONDS: '2',
    });
    expect(config.workers).toEqual({
      inProcess: false,
      dispatchIntervalMs: 2000,
      staleAfterMs: 30_000,
    });
    expect(config.loadShedding).toEqual({
      maxEventLoopDelayMs: 0,
      maxEventLoopUtilization: 0.95,
      maxPoolWaitMs: 250,
      retryAfterSeconds: 2,
    });
    expect(config.databasePoolMax).toBe(40);
  });

  test('the session cache is on by default, bounded, and SESSION_CACHE=off turns it off', () => {
    expect(loadConfig({}).sessionCache).toEqual({
      enabled: true,
      maxEntries: 10_000,
      maxAgeSeconds: 30,
    });
    expect(
      loadConfig({
        SESSION_CACHE: 'off',
        SESSION_CACHE_MAX_ENTRIES: '500',
        SESSION_CACHE_MAX_AGE_SECONDS: '60',
      }).sessionCache,
    ).toEqual({ enabled: false, maxEntries: 500, maxAgeSeconds: 60 });
  });

  test('out-of-range values are refused by name', () => {
    for (const [name, value] of [
      ['SESSION_CACHE', 'yes'],
      ['SESSION_CACHE_MAX_ENTRIES', '0'],
      ['SESSION_CACHE_MAX_AGE_SECONDS', '61'],
      ['IN_PROCESS_WORKERS', 'maybe'],
      ['GDPR_STALE_AFTER_SECONDS', '0'],
      ['LOAD_SHED_EVENT_LOOP_UTILIZATION', '1.5'],
      ['LOAD_SHED_POOL_WAIT_MS', '0'],
      ['DATABASE_POOL_MAX', '0'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), name).toThrow(ConfigError);
      try {
        loadConfig({ [name]: value });
      } catch (error) {
        expect((error as ConfigError).variables).toEqual([name]);
      }
    }
  });
});
