import { ConfigError, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8010,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      DATA_DIR: './data',
      RATE_LIMIT_PER_MINUTE: 600,
      MAX_BODY_BYTES: 1048576,
      DB_POOL_MAX: 10,
      SHUTDOWN_TIMEOUT_MS: 10000,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.AUTH_PROXY_SECRET).toBeUndefined();
    expect(config.databaseDialect).toBe('sqlite');
  });

  it('reads numbers, trims and lower-cases the log level', () => {
    const config = loadConfig({ PORT: ' 9000 ', LOG_LEVEL: 'WARNING', RATE_LIMIT_PER_MINUTE: '0' });
    expect(config.PORT).toBe(9000);
    expect(config.LOG_LEVEL).toBe('warning');
    expect(config.RATE_LIMIT_PER_MINUTE).toBe(0);
  });

  it('selects PostgreSQL from DATABASE_URL; an empty value means SQLite', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/cc' }).databaseDialect).toBe('postgres');
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/cc' }).databaseDialect).toBe('postgres');
    expect(loadConfig({ DATABASE_URL: '' }).databaseDialect).toBe('sqlite');
  });

  it('names every bad variable in one error, hiding secrets', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: '70000',
        LOG_LEVEL: 'verbose',
        DATABASE_URL: 'mysql://root:pw@db/cc',
        AUTH_PROXY_SECRET: 'short',
        MAX_BODY_BYTES: '12abc',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toHaveLength(5);
    expect(message).toContain('PORT must be an integer between 1 and 65535 (got "70000")');
    expect(message).toContain('LOG_LEVEL must be one of debug, info, warning, error (got "verbose")');
    expect(message).toContain(
      'DATABASE_URL must be a postgres:// or postgresql:// URL (unset for embedded SQLite) (got (hidden))',
    );
    expect(message).toContain('AUTH_PROXY_SECRET must be at least 16 characters when set (got (hidden))');
    expect(message).toContain('MAX_BODY_BYTES must be an integer');
    expect(message).not.toContain('pw@');
    expect(message).not.toContain('short');
  });

  it('ignores unrelated environment variables', () => {
    expect(() => loadConfig({ HOME: '/root', PATH: '/bin', SOMETHING_ELSE: 'x' })).not.toThrow();
  });
});
