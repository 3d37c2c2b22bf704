-- The demo database: shaped like the seeds' (users, sessions, audit and system logs, notifications,
-- orders, and a daily range-partitioned trades table), with rows of many ages for retention to find.
create table users (
  id bigserial primary key,
  email text not null unique,
  created_at timestamptz not null default now()
);
create table user_sessions (
  id bigserial primary key,
  user_id bigint not null references users(id),
  token text not null,
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create index user_sessions_expires_at_idx on user_sessions (expires_at);
create table audit_logs (
  id bigserial primary key,
  user_id bigint,
  action text not null,
  details jsonb,
  created_at timestamptz not null
);
create index audit_logs_created_at_idx on audit_logs (created_at);
create table system_logs (
  id bigserial primary key,
  level text not null check (level in ('DEBUG', 'INFO', 'WARN', 'ERROR')),
  message text not null,
  created_at timestamptz not null
);
create index system_logs_created_at_idx on system_logs (created_at);
create table notifications (
  id bigserial primary key,
  user_id bigint not null references users(id),
  body text not null,
  is_read boolean not null default false,
  created_at timestamptz not null
);
create index notifications_created_at_idx on notifications (created_at);
create table orders (
  id bigserial primary key,
  user_id bigint not null references users(id),
  symbol text not null,
  quantity numeric(18, 8) not null,
  status text not null,
  created_at timestamptz not null
);
create index orders_user_id_idx on orders (user_id);
create table trades (
  id bigserial,
  symbol text not null,
  price numeric(18, 8) not null,
  executed_at timestamptz not null,
  primary key (id, executed_at)
) partition by range (executed_at);

insert into users (email, created_at)
select 'user' || i || '@example.com', now() - (i % 400) * interval '1 day' from generate_series(1, 2000) i;

insert into user_sessions (user_id, token, created_at, expires_at)
select 1 + i % 2000, md5(i::text), now() - (i % 60) * interval '1 day', now() - (i % 60) * interval '1 day' + interval '30 days'
from generate_series(1, 20000) i;

insert into audit_logs (user_id, action, details, created_at)
select 1 + i % 2000, (array['login', 'logout', 'order', 'update'])[1 + i % 4], jsonb_build_object('n', i),
       now() - (i % 200) * interval '1 day' - (i % 1440) * interval '1 minute'
from generate_series(1, 60000) i;

insert into system_logs (level, message, created_at)
select (array['DEBUG', 'INFO', 'WARN', 'ERROR'])[1 + i % 4], 'message ' || i, now() - (i % 240) * interval '1 day'
from generate_series(1, 40000) i;

insert into notifications (user_id, body, is_read, created_at)
select 1 + i % 2000, 'notice ' || i, i % 3 <> 0, now() - (i % 120) * interval '1 day'
from generate_series(1, 30000) i;

insert into orders (user_id, symbol, quantity, status, created_at)
select 1 + i % 2000, (array['EURUSD', 'GBPUSD', 'USDJPY'])[1 + i % 3], (i % 100) / 10.0, 'filled', now() - (i % 365) * interval '1 day'
from generate_series(1, 20000) i;

-- Daily trades partitions from 120 days ago to 2 days ahead, plus a default partition.
do $$
declare d date;
begin
  for d in select generate_series(current_date - 120, current_date + 2, interval '1 day')::date loop
    execute format('create table %I partition of trades for values from (%L) to (%L)',
                   'trades_' || to_char(d, 'YYYYMMDD'), d, d + 1);
  end loop;
end $$;
create table trades_default partition of trades default;
insert into trades (symbol, price, executed_at)
select (array['EURUSD', 'GBPUSD', 'USDJPY'])[1 + i % 3], 1 + (i % 1000) / 1000.0, now() - (i % 120) * interval '1 day'
from generate_series(1, 30000) i;
analyze;
