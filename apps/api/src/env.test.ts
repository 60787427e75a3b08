import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.allowedOrigins).toEqual([]);
    expect(config.logLevel).toBe('info');
    expect(config.secureCookies).toBe(false);
    expect(config.limits.maxBodyBytes).toBe(1024 * 1024);
    expect(config.timeouts).toEqual({
      headersMs: 20_000,
      keepAliveMs: 5_000,
      wsPingMs: 30_000,
      wsPongWaitMs: 10_000,
    });
  });

  it('names the variable and the reason when a value is bad', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT: must be a number/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT: must be between 0 and 65535/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL: must be one of/);
    expect(() => loadConfig({ SECURE_COOKIES: 'yes' })).toThrow(
      /SECURE_COOKIES: must be true or false/,
    );
    expect(() =>
      loadConfig({ ALLOWED_ORIGINS: 'https://ok.example,https://bad.example/path' }),
    ).toThrow(/ALLOWED_ORIGINS: each entry must be an origin/);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig({ PORT: '-1', MAX_BODY_BYTES: '0' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/PORT/);
      expect((error as Error).message).toMatch(/MAX_BODY_BYTES: must be at least 1/);
    }
  });

  it('parses lists and booleans', () => {
    const config = loadConfig({
      ALLOWED_ORIGINS: 'https://a.example, http://b.example:8080',
      SECURE_COOKIES: 'true',
    });
    expect(config.allowedOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
    expect(config.secureCookies).toBe(true);
  });
});
