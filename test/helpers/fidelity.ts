import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { libpqEnv } from '../../functions/shared/credentials';
import { pgToolPath } from '../../functions/shared/pg-tools';
import type { TestDatabase } from './database';

const run = promisify(execFile);

/**
 * A schema with everything a backup must carry across: quoted, mixed-case and unicode names,
 * several schemas, enums and domains, jsonb/bytea/arrays/numeric/timestamptz, views, materialized
 * views, functions, triggers, sequences with their current values, foreign keys, comments, large
 * objects, a partitioned table and a contrib extension.
 */
export const FIDELITY_SCHEMA = `
  create extension if not exists pg_trgm;
  create schema billing;
  create schema "Mixed Case Schema";
  create type mood as enum ('sad', 'ok', 'happy');
  create domain billing.positive_amount as numeric(12, 2) check (value > 0);
  create table "Customers" (
    "ID" serial primary key,
    "Full Name" text not null,
    "ünïcødé_名前" text,
    mood mood default 'ok',
    tags text[] default '{}',
    profile jsonb,
    avatar bytea,
    balance numeric(20, 6),
    joined timestamptz default '2024-01-02 03:04:05+00'
  );
  comment on table "Customers" is 'customers, with a comment that must survive';
  comment on column "Customers"."Full Name" is 'as printed on invoices';
  create table billing.invoices (
    id bigserial primary key,
    customer_id int not null references "Customers" ("ID") on delete cascade,
    amount billing.positive_amount not null,
    issued_at timestamptz not null default now()
  );
  create index invoices_customer_idx on billing.invoices (customer_id);
  create index customers_name_trgm on "Customers" using gin ("Full Name" gin_trgm_ops);
  create table "Mixed Case Schema"."Odd ""Quoted"" Table" ("a b" int, "c;d" text);
  insert into "Mixed Case Schema"."Odd ""Quoted"" Table" values (1, 'x; drop table y'), (2, null);
  create table measurements (id int, taken date not null, value double precision) partition by range (taken);
  create table measurements_2024 partition of measurements for values from ('2024-01-01') to ('2025-01-01');
  create table measurements_2025 partition of measurements for values from ('2025-01-01') to ('2026-01-01');
  insert into measurements select g, date '2024-01-01' + (g % 700), g * 1.5 from generate_series(1, 3000) g;
  insert into "Customers" ("Full Name", "ünïcødé_名前", mood, tags, profile, avatar, balance)
    select 'Customer ' || g, '名前 ' || g, (array['sad','ok','happy'])[1 + g % 3]::mood,
           array['t' || g, 'u'], jsonb_build_object('n', g, 'nested', jsonb_build_array(g, 'x', null)),
           decode(md5(g::text), 'hex'), g * 1.000001
    from generate_series(1, 500) g;
  insert into billing.invoices (customer_id, amount, issued_at)
    select 1 + g % 500, (g % 900) + 0.5, timestamptz '2025-03-01 12:00:00+00' + g * interval '1 hour'
    from generate_series(1, 2000) g;
  create view billing.customer_totals as
    select c."ID", c."Full Name", sum(i.amount) as total from "Customers" c join billing.invoices i on i.customer_id = c."ID" group by 1, 2;
  create materialized view billing.monthly as
    select date_trunc('month', issued_at) as month, count(*) as n from billing.invoices group by 1;
  create function billing.touch() returns trigger language plpgsql as $$
    begin new.issued_at := coalesce(new.issued_at, now()); return new; end $$;
  create trigger invoices_touch before insert on billing.invoices for each row execute function billing.touch();
  create sequence billing.invoice_numbers start 1000;
  select setval('billing.invoice_numbers', 4242);
  select lo_from_bytea(0, convert_to('a large object, restored byte for byte', 'UTF8'));
`;

export async function createFidelitySchema(db: TestDatabase): Promise<void> {
  await db.sql(FIDELITY_SCHEMA);
}

/**
 * Everything pg_dump can see of a database, as plain SQL: schema, data (in table order), sequence
 * values, comments, large objects, extensions. Two databases with the same text are the same.
 */
export async function databaseText(db: Pick<TestDatabase, 'settings'>, database: string): Promise<string> {
  const { stdout } = await run(
    pgToolPath('pg_dump'),
    ['--format=plain', '--no-owner', '--no-privileges', '--no-password'],
    {
      env: { ...process.env, ...libpqEnv(db.settings, 'pgmaint-test', database) },
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  // Comment lines carry nothing but pg_dump's own headers; \restrict lines carry a random key.
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('--') && !/^\\(un)?restrict /.test(line))
    .join('\n');
}
