import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES, hintFor, loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

describe('loadConfig', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'audience-config-'));

  it('has working defaults with no file and no env', () => {
    const c = loadConfig({ env: {}, cwd: dir });
    expect(c.database.url).toBeUndefined();
    expect(c.database.dataDir).toBe('./.audience');
    expect(c.warmup.hardCeiling).toBe(4000);
    expect(Object.isFrozen(c.warmup.ramp)).toBe(true);
  });

  it('applies precedence defaults < file < env < flags', () => {
    const file = path.join(dir, 'a.json');
    writeFileSync(file, JSON.stringify({ timezone: 'UTC', mx: { concurrency: 10, timeoutMs: 500 } }));
    const c = loadConfig({ env: { AUDIENCE_TZ: 'America/New_York', AUDIENCE_DNS_SERVERS: '127.0.0.1:5353, 10.0.0.1' }, cwd: dir, configPath: file, overrides: { mx: { concurrency: 3 } } });
    expect(c.timezone).toBe('America/New_York');
    expect(c.mx.concurrency).toBe(3);
    expect(c.mx.timeoutMs).toBe(500);
    expect(c.mx.dnsServers).toEqual(['127.0.0.1:5353', '10.0.0.1']);
  });

  it('rejects unknown keys, unknown AUDIENCE_* variables and values above the hard ceiling', () => {
    const file = path.join(dir, 'b.json');
    writeFileSync(file, JSON.stringify({ mx: { concurency: 10 } }));
    expect(() => loadConfig({ env: {}, cwd: dir, configPath: file })).toThrow(/concurency/);
    expect(() => loadConfig({ env: { AUDIENCE_DATADIR: 'x' }, cwd: dir })).toThrow(/unknown environment variable AUDIENCE_DATADIR/);
    expect(() => loadConfig({ env: {}, cwd: dir, overrides: { warmup: { hardCeiling: 9000 } } })).toThrow(ConfigError);
  });

  it('names the variable to set when a value is invalid', () => {
    expect(() => loadConfig({ env: { DATABASE_URL: 'mysql://x' }, cwd: dir })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ env: { AUDIENCE_TZ: 'Mars/Olympus' }, cwd: dir })).toThrow(/AUDIENCE_TZ/);
    // The Listmonk and DNS variables too: the hint is read from the variables' own mapping.
    expect(() => loadConfig({ env: { LISTMONK_URL: 'listmonk.local' }, cwd: dir })).toThrow(/set LISTMONK_URL/);
    expect(() => loadConfig({ env: { AUDIENCE_DNS_SERVERS: 'ns1:domain' }, cwd: dir })).toThrow(/set AUDIENCE_DNS_SERVERS/);
  });

  it('has a hint for the config key of every environment variable, and none for keys no variable sets', () => {
    const keys: Record<string, string> = {
      DATABASE_URL: 'database.url',
      AUDIENCE_DATA_DIR: 'database.dataDir',
      AUDIENCE_TZ: 'timezone',
      AUDIENCE_NOW: 'now',
      AUDIENCE_MAILLOG: 'maillog.path',
      AUDIENCE_DNS_SERVERS: 'mx.dnsServers',
      AUDIENCE_WARMUP_START: 'warmup.start',
      LISTMONK_URL: 'listmonk.url',
      LISTMONK_API_USER: 'listmonk.apiUser',
      LISTMONK_API_TOKEN: 'listmonk.apiToken',
    };
    expect([...ENV_VARIABLES].sort()).toEqual(Object.keys(keys).sort());
    for (const [name, key] of Object.entries(keys)) expect(hintFor(key.split('.'))).toBe(` (set ${name} or the key in audience.config.json)`);
    expect(hintFor(['mx', 'dnsServers', 0])).toMatch(/AUDIENCE_DNS_SERVERS/);
    expect(hintFor(['listmonk', 'listPrefix'])).toBe('');
    expect(hintFor(['nowhere'])).toBe('');
  });

  it('reports a missing explicit config file and bad JSON with what to do', () => {
    expect(() => loadConfig({ env: { AUDIENCE_CONFIG: 'nope.json' }, cwd: dir })).toThrow(/does not exist/);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(() => loadConfig({ env: {}, cwd: dir, configPath: bad })).toThrow(/not valid JSON/);
  });

  it('a config path that is a directory, a file that is not a JSON object, a URL that is not a URL: ConfigErrors (issue #18)', () => {
    expect(() => loadConfig({ env: {}, cwd: dir, configPath: dir })).toThrow(/cannot be read \(EISDIR\)/);
    const nul = path.join(dir, 'null.json');
    writeFileSync(nul, 'null');
    expect(() => loadConfig({ env: {}, cwd: dir, configPath: nul })).toThrow(/must hold one JSON object/);
    // Zod ran the credentials check on a value its URL check had refused, and new URL threw a TypeError.
    expect(() => loadConfig({ env: { LISTMONK_URL: 'not a url' }, cwd: dir })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { LISTMONK_URL: 'not a url' }, cwd: dir })).toThrow(/listmonk\.url: .*LISTMONK_URL/);
  });
});
