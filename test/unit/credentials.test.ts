import { describe, expect, it } from 'vitest';
import { libpqEnv, resolveConnection, settingsFromSecret } from '../../functions/shared/credentials';

const secret = (fields: Record<string, unknown>) =>
  JSON.stringify({ username: 'pgmaint', password: 'pw', dbname: 'titan', port: 5432, ...fields });

describe('sslmode: verified by default for RDS, as asked otherwise', () => {
  it.each([
    ['titan.abc123xyz.eu-west-2.rds.amazonaws.com', 'verify-full'],
    ['titan.cluster-abc123xyz.eu-west-2.rds.amazonaws.com', 'verify-full'],
    ['titan.cluster-ro-abc123xyz.cn-north-1.rds.amazonaws.com.cn', 'verify-full'],
    ['db.internal.example.com', 'prefer'],
    ['10.0.1.5', 'prefer'],
    ['rds.amazonaws.com.attacker.example', 'prefer'],
  ])('a secret for %s without sslmode gets %s', (host, mode) => {
    expect(settingsFromSecret('s', secret({ host })).sslMode).toBe(mode);
  });

  it("keeps the secret's own sslmode, even for an RDS host", () => {
    const settings = settingsFromSecret(
      's',
      secret({ host: 'x.y.eu-west-2.rds.amazonaws.com', sslmode: 'require' }),
    );
    expect(settings.sslMode).toBe('require');
  });

  it("lets the target's sslmode override the secret and the URL", async () => {
    const fromSecret = await resolveConnection({ secret: 's', sslmode: 'verify-ca' }, async () =>
      secret({ host: 'x.y.eu-west-2.rds.amazonaws.com' }),
    );
    expect(fromSecret.sslMode).toBe('verify-ca');
    const fromUrl = await resolveConnection(
      { url: 'postgres://u@localhost/db', sslmode: 'disable' },
      async () => '',
    );
    expect(fromUrl.sslMode).toBe('disable');
  });

  it('leaves local URLs as libpq reads them', async () => {
    expect((await resolveConnection({ url: 'postgres://u@localhost/db' }, async () => '')).sslMode).toBe(
      'prefer',
    );
  });

  it('hands pg_dump and pg_restore the CA bundle to verify against', () => {
    const settings = settingsFromSecret('s', secret({ host: 'x.y.eu-west-2.rds.amazonaws.com' }));
    const env = libpqEnv(settings, 'pgmaint/backup', undefined, {
      PGSSLROOTCERT: '/opt/rds-global-bundle.pem',
    });
    expect(env).toMatchObject({ PGSSLMODE: 'verify-full', PGSSLROOTCERT: '/opt/rds-global-bundle.pem' });
    expect(libpqEnv(settings, 'pgmaint/backup', undefined, {}).PGSSLROOTCERT).toBeUndefined();
  });
});
