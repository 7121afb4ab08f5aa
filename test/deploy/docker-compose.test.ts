import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../server/src/config.ts';
import { postgresHostUrls } from '../../server/src/db/connection-url.ts';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');
// `<<: *postgres-image`: YAML merge keys, as docker-compose reads them.
const compose = parse(read('docker-compose.yml'), { merge: true });
/** Compose's `${NAME:?message}` replaced by a value, as the env file would. */
const interpolated = (value: string) => value.replace(/\$\{[A-Z_]+:\?[^}]+\}/g, 'secret');
const { postgres, 'postgres-standby': standby, vigil } = compose.services;

/** A server's `-c name=value` options, from its command (vigil-postgres-start <role> -c … -c …). */
function serverOptions(service: { command: string[] }): Record<string, string> {
  const options: Record<string, string> = {};
  service.command.forEach((word, i) => {
    if (service.command[i - 1] !== '-c') return;
    const at = word.indexOf('=');
    options[word.slice(0, at)] = word.slice(at + 1);
  });
  return options;
}

/** pgBackRest's ini: section → option → value (an option twice in a section is kept twice, joined by a newline). */
function ini(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      sections[section] ??= {};
      continue;
    }
    const at = line.indexOf('=');
    const [key, value] = [line.slice(0, at), line.slice(at + 1)];
    const options = (sections[section] ??= {});
    options[key] = key in options ? `${options[key]}\n${value}` : value;
  }
  return sections;
}

/** Where a service mounts a named volume or a file of the repository, and how (`ro` or `rw`). */
function mounts(service: { volumes: string[] }): Array<{ source: string; target: string; mode: string }> {
  return service.volumes.map((volume) => {
    const [source, target, mode = 'rw'] = volume.split(':');
    return { source, target, mode };
  });
}
const mountOf = (service: { volumes: string[] }, source: string) => mounts(service).find((mount) => mount.source === source);

const pgbackrestConf = ini(read('deploy/pgbackrest/pgbackrest.conf'));
const secretExample = ini(read('deploy/secrets/pgbackrest.conf.example'));
const startScript = read('deploy/postgres/start.sh');
const primaryInit = read('deploy/postgres/primary-init.sh');

describe('docker-compose.yml', () => {
  test('runs a PostgreSQL primary and its standby, Redis and Vigil built from the repository, each with a healthcheck', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'postgres-standby', 'prometheus', 'redis', 'vigil']);
    for (const [name, service] of Object.entries<any>(compose.services)) {
      expect({ name, healthcheck: Boolean(service.healthcheck?.test) }).toEqual({ name, healthcheck: true });
    }
    expect(vigil.build).toBe('.');
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    expect(vigil.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      'postgres-standby': { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    // One image for both servers: PostgreSQL 15, the major version of the binaries Vigil restores with.
    for (const server of [postgres, standby]) expect(server).toMatchObject({ build: './deploy/postgres', image: postgres.image });
    expect(read('deploy/postgres/Dockerfile')).toMatch(/^FROM postgres:15-bookworm$/m);
  });

  test("Prometheus scrapes Vigil's METRICS_PORT, which is not published; its rules and the Grafana dashboard name only figures Vigil has", async () => {
    const { createMetrics } = await import('../../server/src/metrics/metrics.ts');
    const metrics = createMetrics({ liveSubscribers: () => 0, hashing: () => ({ running: 0, waiting: 0 }), backups: async () => ({ ageSeconds: null, stale: true, rpoSeconds: null, drillPassed: null, drillSeconds: null }) });
    const known = new Set((await metrics.registry.getMetricsAsJSON()).flatMap(({ name, type }) => (String(type) === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name])));
    const port = vigil.environment.METRICS_PORT;
    expect(port).toMatch(/^\d+$/);
    expect((vigil.ports as string[]).some((published) => published.split(':').includes(port))).toBe(false);
    const scrape = parse(read('deploy/prometheus/prometheus.yml'));
    expect(scrape.scrape_configs).toEqual([{ job_name: 'vigil', scheme: 'https', tls_config: { ca_file: '/tls/ca.crt', server_name: 'vigil' }, static_configs: [{ targets: [`vigil:${port}`] }] }]);
    expect(mountOf(compose.services.prometheus, './deploy/prometheus/prometheus.yml')).toMatchObject({ target: '/etc/prometheus/prometheus.yml', mode: 'ro' });
    const rules = parse(read('deploy/prometheus/vigil-alerts.yml')).groups.flatMap((group: { rules: Array<{ expr: string }> }) => group.rules.map((rule) => rule.expr));
    const panels = JSON.parse(read('deploy/grafana/vigil-dashboard.json')).panels.flatMap((panel: { targets: Array<{ expr: string }> }) => panel.targets.map((target) => target.expr));
    const named = [...rules, ...panels].flatMap((expr: string) => expr.match(/\b(?:vigil|process)_[a-z_]+\b/g) ?? []);
    expect(named.length).toBeGreaterThan(15);
    expect(named.filter((name) => !known.has(name))).toEqual([]);
  });

  test('holds no secret in clear: passwords from the env file, the rest docker secrets, both kept out of git and the image', () => {
    const secretLike = /PASSWORD|SECRET|KEY/;
    for (const [name, service] of Object.entries<any>(compose.services)) {
      for (const [variable, value] of Object.entries<string>(service.environment ?? {})) {
        // A *_FILE variable names where a key is mounted, not the key.
        if (secretLike.test(variable) && !variable.endsWith('_FILE')) expect({ name, variable, value }).toEqual({ name, variable, value: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]+\}$/) });
        if (typeof value === 'string' && /:\/\/[^$]*:[^$@]+@/.test(value)) throw new Error(`${name}.${variable} has a password in clear`);
      }
    }
    expect(vigil.env_file).toBe('.env');
    expect(read('.gitignore').split('\n')).toContain('.env');
    expect(existsSync(join(root, '.env.example'))).toBe(true);

    // The docker secrets are files of deploy/secrets, which ignores everything in it but its examples and README.
    expect(Object.keys(compose.secrets).sort()).toEqual(['pgbackrest.conf', 'postgres_replication_password']);
    for (const { file } of Object.values<any>(compose.secrets)) expect(file).toMatch(/^\.\/deploy\/secrets\/[^/]+$/);
    const ignored = read('deploy/secrets/.gitignore').split('\n').filter((line) => line && !line.startsWith('#'));
    expect(ignored).toEqual(['*', '!.gitignore', '!README.md', '!*.example']);
    expect(read('Dockerfile')).toMatch(/^RUN .*rm -rf deploy\/keys deploy\/secrets/m);

    // The committed pgBackRest config holds no key nor passphrase; the example holds placeholders only.
    for (const options of Object.values(pgbackrestConf)) {
      for (const key of Object.keys(options)) expect(key).not.toMatch(/cipher-pass|s3-key|s3-token/);
    }
    for (const [key, value] of Object.entries(secretExample.global)) if (/cipher-pass|s3-key/.test(key)) expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^change-me/) });
  });

  test('every hop is TLS: HTTPS with a redirect listener, PostgreSQL verify-full against TLS-only rules (replication too), Redis TLS-only', () => {
    const env = vigil.environment;
    expect(env).toMatchObject({ NODE_ENV: 'production', TLS_CERT_FILE: expect.any(String), TLS_KEY_FILE: expect.any(String), HTTP_REDIRECT_PORT: expect.any(String) });
    expect(env.DATABASE_URL).toMatch(/\?sslmode=verify-full&sslrootcert=\/tls\/ca\.crt$/);
    expect(env.REDIS_URL).toMatch(/^rediss:\/\//);
    expect(env.REDIS_CA_FILE).toBe('/tls/ca.crt');
    for (const server of [postgres, standby]) {
      expect(serverOptions(server)).toMatchObject({ ssl: 'on', ssl_min_protocol_version: 'TLSv1.2', hba_file: '/etc/postgresql/pg_hba.conf' });
      expect(server.volumes).toContain('./deploy/postgres/pg_hba.conf:/etc/postgresql/pg_hba.conf:ro');
    }
    // Each server its own certificate, for the name Vigil and the standby reach it by.
    expect(postgres.environment.POSTGRES_TLS_NAME).toBe('postgres');
    expect(standby.environment.POSTGRES_TLS_NAME).toBe('postgres-standby');
    const hba = read('deploy/postgres/pg_hba.conf').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(hba.filter((l) => /^host\s/.test(l))).toEqual([]);
    expect(hba.some((l) => /^hostssl\s+all\s/.test(l))).toBe(true);
    expect(hba.filter((l) => /^\S+\s+replication\s/.test(l)).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['hostssl replication replicator', 'hostssl replication replicator']);
    expect(startScript).toMatch(/conninfo="host=\$primary [^"]*sslmode=verify-full sslrootcert=\/tls\/ca\.crt/);
    expect(compose.services.redis.command.join(' ')).toMatch(/--port 0 --tls-port 6379/);
    for (const service of Object.values<any>(compose.services)) expect(service.volumes).toContain('./deploy/tls:/tls:ro');
  });

  test('synchronous replication: the primary waits for standby1 to apply each commit, and archives its WAL with pgBackRest', () => {
    expect(postgres.command.slice(0, 2)).toEqual(['vigil-postgres-start', 'primary']);
    expect(serverOptions(postgres)).toMatchObject({
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: 'pgbackrest --stanza=vigil archive-push %p',
      archive_timeout: '60',
      synchronous_standby_names: 'ANY 1 (standby1)',
      synchronous_commit: 'remote_apply',
    });
    // The stanza of the archive_command is the one Vigil backs up.
    expect(vigil.environment.PGBACKREST_STANZA).toBe('vigil');
    expect(pgbackrestConf).toHaveProperty('vigil');
    // The first start's setup must not wait for a standby that cannot exist yet.
    expect(startScript).toMatch(/PG_VERSION[^\n]*\n\s*export PGOPTIONS='-c synchronous_commit=local'/);
    expect(primaryInit).toMatch(/create role replicator with login replication password :'replication_password';/);
    expect(primaryInit).toMatch(/pg_create_physical_replication_slot\('standby1', true\)/);
    expect(read('deploy/postgres/Dockerfile')).toMatch(/COPY primary-init\.sh \/docker-entrypoint-initdb\.d\//);
  });

  test('the standby copies the primary once (pg_basebackup -R -S standby1 -X stream, as standby1), then runs as a hot standby', () => {
    expect(standby.command.slice(0, 2)).toEqual(['vigil-postgres-start', 'standby']);
    expect(standby.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(standby.environment.PRIMARY_HOST).toBe('postgres');
    const options = serverOptions(standby);
    // Promoted, it archives as the primary did, and has no standby of its own to wait for.
    expect(options).toMatchObject({ hot_standby: 'on', wal_level: 'replica', archive_mode: 'on', archive_command: serverOptions(postgres).archive_command, archive_timeout: '60' });
    expect(options).not.toHaveProperty('synchronous_standby_names');
    const basebackup = /gosu postgres pg_basebackup ([^\n]+)/.exec(startScript)?.[1] ?? '';
    for (const flag of ['--write-recovery-conf', '--slot=standby1', '--wal-method=stream', '--dbname="$conninfo"']) expect(basebackup).toContain(flag);
    const conninfo = /conninfo="([^"]+)"/.exec(startScript)?.[1] ?? '';
    const applicationName = /application_name=(\S+)/.exec(conninfo)?.[1];
    // The name the primary waits for is the standby's.
    expect(/^ANY 1 \((.+)\)$/.exec(serverOptions(postgres).synchronous_standby_names)?.[1].split(/\s*,\s*/)).toContain(applicationName);
    expect(conninfo).toMatch(/user=replicator /);
    // The password comes from a passfile: -R would otherwise write it into the standby's postgresql.auto.conf.
    expect(conninfo).toMatch(/passfile=\$pgpass/);
    expect(conninfo).not.toMatch(/password=/);
    // Once: only while the volume holds no cluster, into a partial directory renamed when the copy is complete.
    expect(startScript).toMatch(/if \[ ! -s "\$PGDATA\/PG_VERSION" \]; then\n\s*\[ -z "\$\(ls -A[\s\S]*pg_basebackup --pgdata="\$partial"[\s\S]*mv -T "\$partial" "\$PGDATA"/);
    expect(standby.healthcheck.test.join(' ')).toMatch(/pg_stat_wal_receiver.*grep -qx streaming/);
    // Vigil reaches both, and finds the primary among them itself.
    expect(postgresHostUrls(interpolated(vigil.environment.DATABASE_URL)).map((url) => new URL(url).host)).toEqual(['postgres:5432', 'postgres-standby:5432']);
  });

  test('pgBackRest: repo1 an S3 bucket encrypted aes-256-cbc, repo2 a posix volume, full backups kept 14 days, secrets from a docker secret', () => {
    const global = pgbackrestConf.global;
    expect(global).toMatchObject({
      'repo1-type': 's3',
      'repo1-cipher-type': 'aes-256-cbc',
      'repo1-retention-full-type': 'time',
      'repo1-retention-full': '14',
      'repo2-type': 'posix',
      'repo2-cipher-type': 'aes-256-cbc',
      'repo2-retention-full-type': 'time',
      'repo2-retention-full': '14',
    });
    // What opens repo1 is in the secret, which must not repeat an option of the file (pgBackRest refuses that).
    for (const key of ['repo1-s3-endpoint', 'repo1-s3-bucket', 'repo1-s3-region', 'repo1-s3-key', 'repo1-s3-key-secret', 'repo1-cipher-pass', 'repo2-cipher-pass']) {
      expect(secretExample.global).toHaveProperty(key);
    }
    for (const key of Object.keys(secretExample.global)) expect(global).not.toHaveProperty(key);
    expect(Object.values({ ...global, ...secretExample.global }).some((value) => value.includes('\n'))).toBe(false);

    // repo2 is one volume for the servers (archive-push) and Vigil (backups).
    const repo2 = mountOf(vigil, 'pgbackrest-repo');
    expect(repo2).toEqual({ source: 'pgbackrest-repo', target: global['repo2-path'], mode: 'rw' });
    for (const server of [postgres, standby]) expect(mountOf(server, 'pgbackrest-repo')?.target).toBe(global['repo2-path']);
    expect(compose.volumes).toHaveProperty('pgbackrest-repo');

    // The servers: the file where a bare `pgbackrest archive-push` reads it, the secret beside it (start.sh copies it to conf.d).
    for (const server of [postgres, standby]) {
      expect(server.volumes).toContain('./deploy/pgbackrest/pgbackrest.conf:/etc/pgbackrest/pgbackrest.conf:ro');
      expect(server.secrets).toContain('pgbackrest.conf');
    }
    expect(startScript).toContain('install -o postgres -g postgres -m 600 /run/secrets/pgbackrest.conf /etc/pgbackrest/conf.d/secrets.conf');

    // Vigil: PGBACKREST_CONFIG is the mounted file, the secret in the include path it names (under --config pgBackRest reads none by itself).
    const env = vigil.environment;
    expect(env).toMatchObject({ BACKUP_MODE: 'pgbackrest', PGBACKREST_CONFIG: '/etc/pgbackrest/pgbackrest.conf', PG_BIN_DIR: '/usr/lib/postgresql/15/bin' });
    expect(env).not.toHaveProperty('BACKUP_RUN_AS');
    expect(mountOf(vigil, './deploy/pgbackrest/pgbackrest.conf')).toEqual({ source: './deploy/pgbackrest/pgbackrest.conf', target: env.PGBACKREST_CONFIG, mode: 'ro' });
    const secret = vigil.secrets.find((s: { source: string }) => s.source === 'pgbackrest.conf');
    expect(secret.target).toMatch(/\.conf$/);
    expect(dirname(secret.target)).toBe(env.PGBACKREST_CONFIG_INCLUDE_PATH);

    // The stanza: the primary (pg1) and the standby (pg2) at their own data directories, read-only in Vigil's
    // container, their sockets shared with it.
    const stanza = pgbackrestConf.vigil;
    const servers = [
      { service: postgres, pg: 'pg1', volume: 'pgdata', socket: 'pgsocket', pgdata: '/var/lib/postgresql/data' },
      { service: standby, pg: 'pg2', volume: 'pgdata-standby', socket: 'pgsocket-standby', pgdata: standby.environment.PGDATA },
    ];
    for (const { service, pg, volume, socket, pgdata } of servers) {
      expect(stanza[`${pg}-path`]).toBe(pgdata);
      const own = mountOf(service, volume)!;
      const seen = mountOf(vigil, volume)!;
      expect({ pg, mode: seen.mode, sameTarget: seen.target === own.target, inside: pgdata === own.target || pgdata.startsWith(`${own.target}/`) }).toEqual({ pg, mode: 'ro', sameTarget: true, inside: true });
      expect(mountOf(service, socket)?.target).toBe('/var/run/postgresql');
      expect(mountOf(vigil, socket)?.target).toBe(stanza[`${pg}-socket-path`]);
      expect(stanza[`${pg}-user`]).toBe(postgres.environment.POSTGRES_USER);
    }
    expect(startScript).toContain('export PGBACKREST_PG1_PATH="$PGDATA"');

    // Vigil's image: pgBackRest and PostgreSQL 15 from Debian, its user the uid that owns the servers' data (the postgres image's 999).
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends pgbackrest postgresql-client-15 postgresql-15/);
    expect(dockerfile).toMatch(/useradd --system --uid 999 /);
    expect(read('deploy/postgres/Dockerfile')).toMatch(/apt-get install -y --no-install-recommends pgbackrest/);
  });

  test('pgBackRest reads the config and the secret together without a complaint', async (context) => {
    const binary = await run('pgbackrest', ['version']).then(() => true, () => false);
    if (!binary) {
      if (process.env.CI) throw new Error('pgbackrest is not installed, and CI must check deploy/pgbackrest/pgbackrest.conf with it');
      context.annotate('pgbackrest not installed: only the structural checks ran');
      return;
    }
    const include = mkdtempSync(join(tmpdir(), 'vigil-pgbackrest-conf-'));
    context.onTestFinished(() => rmSync(include, { recursive: true, force: true }));
    copyFileSync(join(root, 'deploy/secrets/pgbackrest.conf.example'), join(include, 'secrets.conf'));
    const help = (extra: string[] = []) =>
      run('pgbackrest', [`--config=${join(root, 'deploy/pgbackrest/pgbackrest.conf')}`, `--config-include-path=${include}`, '--stanza=vigil', ...extra, 'help', 'backup']).then(
        ({ stdout, stderr }) => `${stderr}${stdout.split('\n').filter((line) => /WARN|ERROR/.test(line)).join('\n')}`,
        (error: { stderr: string; stdout: string }) => `${error.stderr}${error.stdout}`,
      );
    expect(await help()).toBe('');
    // It would say so: an option set in both files, an unknown option.
    writeFileSync(join(include, 'secrets.conf'), `${readFileSync(join(include, 'secrets.conf'), 'utf8')}repo1-type=s3\n`);
    expect(await help()).toMatch(/option 'repo1-type' cannot be set multiple times/);
  });

  test('the production settings it gives Vigil pass Vigil\'s own check of every hop', () => {
    const env = Object.fromEntries(Object.entries<string>(vigil.environment).map(([k, v]) => [k, interpolated(v)]));
    const config = loadConfig(env);
    expect(config.backup).toMatchObject({ mode: 'pgbackrest', pgbackrestConfig: '/etc/pgbackrest/pgbackrest.conf', pgbackrestStanza: 'vigil', pgBinDir: '/usr/lib/postgresql/15/bin' });
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
    context.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
    copyFileSync(join(root, 'Dockerfile'), join(dir, 'Dockerfile'));
    writeFileSync(join(dir, '.env'), readFileSync(join(root, '.env.example')));
    // The build context of the servers' image must exist; the secrets need not (Docker checks them at creation).
    for (const sub of ['deploy/postgres', 'deploy/pgbackrest']) cpSync(join(root, sub), join(dir, sub), { recursive: true });
    mkdirSync(join(dir, 'deploy/secrets'), { recursive: true });
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
