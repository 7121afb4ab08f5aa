import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

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
        if (secretLike.test(variable)) expect({ name, variable, value }).toEqual({ name, variable, value: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]+\}$/) });
        if (typeof value === 'string' && /:\/\/[^$]*:[^$@]+@/.test(value)) throw new Error(`${name}.${variable} has a password in clear`);
      }
    }
    expect(compose.services.vigil.env_file).toBe('.env');
    expect(readFileSync(join(root, '.gitignore'), 'utf8').split('\n')).toContain('.env');
    expect(existsSync(join(root, '.env.example'))).toBe(true);
  });

  test('is accepted by docker-compose config, and refused with a clear message without its secrets', async (context) => {
    const binary = await run('docker-compose', ['version', '--short']).then(() => true, () => false);
    if (!binary) {
      // .ci/run installs docker-compose; on a machine without it the structural checks above still hold.
      context.annotate('docker-compose not installed: only the structural checks ran');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'vigil-compose-'));
    copyFileSync(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
    copyFileSync(join(root, 'Dockerfile'), join(dir, 'Dockerfile'));
    writeFileSync(join(dir, '.env'), readFileSync(join(root, '.env.example')));
    await expect(run('docker-compose', ['-f', join(dir, 'docker-compose.yml'), 'config', '-q'], { cwd: dir })).resolves.toBeDefined();
    writeFileSync(join(dir, '.env'), 'REDIS_PASSWORD=x\nAPP_DATABASE_PASSWORD=y\n');
    const refused = await run('docker-compose', ['-f', join(dir, 'docker-compose.yml'), 'config', '-q'], { cwd: dir }).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(refused).toMatch(/set POSTGRES_PASSWORD in \.env/);
  });
});
