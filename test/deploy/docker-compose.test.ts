import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../server/src/config.ts';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'));

describe('docker-compose.yml', () => {
  test('runs PostgreSQL, Redis and Vigil built from the repository, each with a healthcheck', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'redis', 'vigil']);
    for (const [name, service] of Object.entries<any>(compose.services)) {
      expect({ name, healthcheck: Boolean(service.healthcheck?.test) }).toEqual({ name, healthcheck: true });
    }
    expect(compose.services.vigil.build).toBe('.');
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    expect(compose.services.vigil.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
  });

  test('holds no secret in clear: every password comes from the env file, which git ignores', () => {
    const secretLike = /PASSWORD|SECRET|KEY/;
    for (const [name, service] of Object.entries<any>(compose.services)) {
      for (const [variable, value] of Object.entries<string>(service.environment ?? {})) {
        // A *_FILE variable names where a key is mounted, not the key.
        if (secretLike.test(variable) && !variable.endsWith('_FILE')) expect({ name, variable, value }).toEqual({ name, variable, value: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]+\}$/) });
        if (typeof value === 'string' && /:\/\/[^$]*:[^$@]+@/.test(value)) throw new Error(`${name}.${variable} has a password in clear`);
      }
    }
    expect(compose.services.vigil.env_file).toBe('.env');
    expect(readFileSync(join(root, '.gitignore'), 'utf8').split('\n')).toContain('.env');
    expect(existsSync(join(root, '.env.example'))).toBe(true);
  });

  test('every hop is TLS: HTTPS with a redirect listener, PostgreSQL verify-full against TLS-only rules, Redis TLS-only', () => {
    const vigil = compose.services.vigil.environment;
    expect(vigil).toMatchObject({ NODE_ENV: 'production', TLS_CERT_FILE: expect.any(String), TLS_KEY_FILE: expect.any(String), HTTP_REDIRECT_PORT: expect.any(String) });
    expect(vigil.DATABASE_URL).toMatch(/\?sslmode=verify-full&sslrootcert=\/tls\/ca\.crt$/);
    expect(vigil.REDIS_URL).toMatch(/^rediss:\/\//);
    expect(vigil.REDIS_CA_FILE).toBe('/tls/ca.crt');
    const postgres = compose.services.postgres.command.join(' ');
    expect(postgres).toMatch(/-c ssl=on/);
    expect(postgres).toMatch(/hba_file=\/etc\/postgresql\/pg_hba\.conf/);
    const hba = readFileSync(join(root, 'deploy/postgres/pg_hba.conf'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(hba.filter((l) => /^host\s/.test(l))).toEqual([]);
    expect(hba.some((l) => /^hostssl\s/.test(l))).toBe(true);
    expect(compose.services.redis.command.join(' ')).toMatch(/--port 0 --tls-port 6379/);
    for (const service of Object.values<any>(compose.services)) expect(service.volumes).toContain('./deploy/tls:/tls:ro');
  });

  test('the production settings it gives Vigil pass Vigil\'s own check of every hop', () => {
    const env = Object.fromEntries(
      Object.entries<string>(compose.services.vigil.environment).map(([k, v]) => [k, v.replace(/\$\{[A-Z_]+:\?[^}]+\}/g, 'secret')]),
    );
    expect(() => loadConfig(env)).not.toThrow();
  });

  test('is accepted by docker-compose config, and refused with a clear message without its secrets', async (context) => {
    const binary = await run('docker-compose', ['version', '--short']).then(() => true, () => false);
    if (!binary) {
      // CI (.ci/run) installs docker-compose: there, its absence is a failure, not a skip.
      if (process.env.CI) throw new Error('docker-compose is not installed, and CI must validate docker-compose.yml with it');
      context.annotate('docker-compose not installed: only the structural checks ran');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'vigil-compose-'));
    copyFileSync(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
    copyFileSync(join(root, 'Dockerfile'), join(dir, 'Dockerfile'));
    writeFileSync(join(dir, '.env'), readFileSync(join(root, '.env.example')));
    mkdirSync(join(dir, 'deploy/postgres'), { recursive: true });
    copyFileSync(join(root, 'deploy/postgres/pg_hba.conf'), join(dir, 'deploy/postgres/pg_hba.conf'));
    await expect(run('docker-compose', ['-f', join(dir, 'docker-compose.yml'), 'config', '-q'], { cwd: dir })).resolves.toBeDefined();
    const refusedWith = (env: string) => {
      writeFileSync(join(dir, '.env'), env);
      return run('docker-compose', ['-f', join(dir, 'docker-compose.yml'), 'config', '-q'], { cwd: dir }).then(
        () => '',
        (error: { stderr: string }) => error.stderr,
      );
    };
    expect(await refusedWith('REDIS_PASSWORD=x\nAPP_DATABASE_PASSWORD=y\nOPS_DATABASE_PASSWORD=z\n')).toMatch(/set POSTGRES_PASSWORD in \.env/);
    expect(await refusedWith('REDIS_PASSWORD=x\nAPP_DATABASE_PASSWORD=y\nPOSTGRES_PASSWORD=w\n')).toMatch(/set OPS_DATABASE_PASSWORD in \.env/);
  });
});
