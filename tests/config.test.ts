import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

describe('the sign-up and mail settings', () => {
  it('have defaults that work on a laptop: mail to a folder, links to the local server, limits in memory', () => {
    const config = loadConfig({ PORT: '4100' }, '/srv/masthead');
    expect(config.publicUrl).toBe('http://127.0.0.1:4100');
    expect(config.mail).toMatchObject({ smtpUrl: null, dir: '/srv/masthead/data/mail', from: 'Masthead <newsletters@localhost>' });
    expect(config.signUp).toMatchObject({
      confirmTokenTtlMs: 48 * 3_600_000,
      unsubscribeTokenTtlMs: 365 * 24 * 3_600_000,
      perClient: { limit: 20, windowMs: 600_000 },
      perEmail: { limit: 5, windowMs: 3_600_000 },
      consentVersion: '1',
    });
    expect(config.redisUrl).toBeNull();
    expect(config.trustProxyHops).toBe(0);
  });

  it('read every setting', () => {
    const config = loadConfig(
      {
        HOST: '0.0.0.0',
        PUBLIC_URL: 'https://news.example.org/masthead/',
        SMTP_URL: 'smtps://user:pass@mail.example.org',
        MAIL_FROM: 'The Paper <news@example.org>',
        MAIL_DIR: 'outgoing',
        MAIL_RETRY_BASE_MS: '500',
        MAIL_MAX_ATTEMPTS: '3',
        MAIL_POLL_MS: '250',
        CONFIRM_TOKEN_TTL_HOURS: '24',
        UNSUBSCRIBE_TOKEN_TTL_DAYS: '30',
        SUBSCRIBE_RATE_PER_CLIENT: '100/1h',
        SUBSCRIBE_RATE_PER_EMAIL: 'off',
        REDIS_URL: 'redis://cache.internal:6379/2',
        TRUST_PROXY_HOPS: '2',
        CONSENT_VERSION: '2026-11-footer',
      },
      '/srv/masthead',
    );
    expect(config.publicUrl).toBe('https://news.example.org/masthead');
    expect(config.mail).toEqual({
      smtpUrl: 'smtps://user:pass@mail.example.org',
      from: 'The Paper <news@example.org>',
      dir: '/srv/masthead/outgoing',
      retryBaseMs: 500,
      maxAttempts: 3,
      pollMs: 250,
      sender: true,
    });
    expect(config.signUp).toEqual({
      confirmTokenTtlMs: 24 * 3_600_000,
      unsubscribeTokenTtlMs: 30 * 24 * 3_600_000,
      perClient: { limit: 100, windowMs: 3_600_000 },
      perEmail: { limit: 0, windowMs: 3_600_000 },
      consentVersion: '2026-11-footer',
    });
    expect(config.redisUrl).toBe('redis://cache.internal:6379/2');
    expect(config.trustProxyHops).toBe(2);
  });

  it('make links to localhost when the server listens on every interface', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).publicUrl).toBe('http://localhost:4000');
    expect(loadConfig({ HOST: '::1' }).publicUrl).toBe('http://[::1]:4000');
  });
});

describe('the response cache setting', () => {
  it('is on unless RESPONSE_CACHE says off, and names itself when it is neither', () => {
    expect(loadConfig({}).responseCache).toBe(true);
    expect(loadConfig({ RESPONSE_CACHE: 'on' }).responseCache).toBe(true);
    expect(loadConfig({ RESPONSE_CACHE: 'off' }).responseCache).toBe(false);
    expect(() => loadConfig({ RESPONSE_CACHE: 'memory' })).toThrow(/^RESPONSE_CACHE must be on or off/);
  });
});

describe('the log settings', () => {
  it('logs text at info for people, JSON in production, and refuses a level or format it does not know', () => {
    expect(loadConfig({}).log).toEqual({ level: 'info', format: 'text' });
    expect(loadConfig({ NODE_ENV: 'production' }).log).toEqual({ level: 'info', format: 'json' });
    expect(loadConfig({ NODE_ENV: 'production', LOG_FORMAT: 'text', LOG_LEVEL: 'WARN' }).log).toEqual({ level: 'warn', format: 'text' });
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(/^LOG_LEVEL must be one of debug, info, warn, error, silent, got "verbose"$/);
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/^LOG_FORMAT must be one of json, text, got "xml"$/);
  });
});
