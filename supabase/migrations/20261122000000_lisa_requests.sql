-- Lisa outbound booking requests (seed 002): the tables the frontend polls and the backend updates.
-- Apply with the Supabase CLI (`supabase db push`) or paste into the SQL editor. Safe to apply twice, and on a
-- project whose `requests` / `events` tables exist already (a frontend made them first): every missing column,
-- constraint, index, trigger and policy is added; existing rows, columns and their types are kept.
-- Reads: a signed-in user sees only their own requests and their events (row-level security).
-- Writes: the service role (the Lisa backend with SUPABASE_SERVICE_KEY) writes everything; a signed-in user
-- may create their own request row in status `queued` (seed 002: the frontend inserts the row first).

create table if not exists public.requests (id uuid primary key default gen_random_uuid());
create table if not exists public.events (id uuid primary key default gen_random_uuid());

-- ids: Lisa's request and event ids are UUIDs, upserted on `id` (needs a unique index on it)
do $$
declare
    t text;
begin
    foreach t in array array['requests', 'events'] loop
        if (select format_type(atttypid, atttypmod) from pg_attribute
            where attrelid = format('public.%I', t)::regclass and attname = 'id' and not attisdropped)
           is distinct from 'uuid' then
            raise exception 'public.%.id must be a uuid column: Lisa''s request and event ids are UUIDs', t;
        end if;
        if not exists (
            select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
            where i.indrelid = format('public.%I', t)::regclass and i.indisunique and i.indnatts = 1
              and i.indpred is null and a.attname = 'id'
        ) then
            execute format('create unique index %I on public.%I (id)', t || '_id_key', t);
        end if;
    end loop;
end $$;

-- every column Lisa reads or writes; on an existing table only the missing ones are added (an existing
-- column keeps its type and default)
alter table public.requests
    add column if not exists user_id uuid references auth.users (id) on delete cascade,
    add column if not exists title text,
    add column if not exists description text not null default '',
    add column if not exists callback_number text,
    add column if not exists number_to_call text,
    add column if not exists preferred_time text not null default '',
    add column if not exists user_profile jsonb not null default '{}'::jsonb,
    add column if not exists language text not null default 'de',
    add column if not exists status text not null default 'queued',
    add column if not exists summary text,
    add column if not exists appointment timestamptz,
    add column if not exists created_at timestamptz not null default now(),
    add column if not exists updated_at timestamptz not null default now();

alter table public.events
    add column if not exists request_id uuid references public.requests (id) on delete cascade,
    add column if not exists type text,
    add column if not exists message text not null default '',
    add column if not exists created_at timestamptz not null default now();

-- required columns: NOT NULL unless rows from before the migration lack them (those rows are kept)
do $$
declare
    col text[];
    has_nulls boolean;
begin
    foreach col slice 1 in array array[
        ['requests', 'user_id'], ['requests', 'title'], ['events', 'request_id'], ['events', 'type']
    ] loop
        execute format('select exists (select 1 from public.%I where %I is null)', col[1], col[2])
            into has_nulls;
        if not has_nulls then
            execute format('alter table public.%I alter column %I set not null', col[1], col[2]);
        end if;
    end loop;
end $$;

-- the seed's vocabulary: checked for new and changed rows (rows from before the migration are not judged)
do $$
declare
    c record;
begin
    for c in
        select * from (values
            ('requests', 'requests_language_check', $c$language in ('de', 'en')$c$),
            ('requests', 'requests_status_check', $c$status in ('queued', 'outside_business_hours', 'calling',
                'in_progress', 'waiting_for_callback', 'booked', 'failed', 'canceled')$c$),
            ('events', 'events_type_check', $c$type in ('request_received', 'scheduled', 'call_started',
                'call_connected', 'booking_in_progress', 'booking_confirmed', 'call_failed', 'call_completed',
                'error')$c$)
        ) as v(tbl, name, expr)
    loop
        if not exists (
            select 1 from pg_constraint
            where conrelid = format('public.%I', c.tbl)::regclass and conname = c.name
        ) then
            execute format('alter table public.%I add constraint %I check (%s) not valid', c.tbl, c.name, c.expr);
            begin
                execute format('alter table public.%I validate constraint %I', c.tbl, c.name);
            exception when check_violation then
                raise notice '%: older rows outside the vocabulary are kept; new ones are checked', c.name;
            end;
        end if;
    end loop;
end $$;

-- references: a request belongs to a user (deleting the user deletes their requests), an event to a request;
-- added where an existing column has no foreign key yet (rows from before the migration are not judged)
do $$
declare
    c record;
begin
    for c in
        select * from (values
            ('requests', 'user_id', 'requests_user_id_fkey', 'auth.users (id)'),
            ('events', 'request_id', 'events_request_id_fkey', 'public.requests (id)')
        ) as v(tbl, col, name, target)
    loop
        if not exists (
            select 1 from pg_constraint k join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
            where k.conrelid = format('public.%I', c.tbl)::regclass and k.contype = 'f'
              and array_length(k.conkey, 1) = 1 and a.attname = c.col
        ) then
            execute format(
                'alter table public.%I add constraint %I foreign key (%I) references %s on delete cascade not valid',
                c.tbl, c.name, c.col, c.target
            );
            begin
                execute format('alter table public.%I validate constraint %I', c.tbl, c.name);
            exception when foreign_key_violation then
                raise notice '%: older rows without a match are kept; new ones are checked', c.name;
            end;
        end if;
    end loop;
end $$;

create index if not exists requests_user_created_idx on public.requests (user_id, created_at desc);
create index if not exists requests_status_idx on public.requests (status);
create index if not exists events_request_created_idx on public.events (request_id, created_at);

-- updated_at follows every change, whoever makes it
create or replace function public.lisa_touch_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;
drop trigger if exists requests_touch_updated_at on public.requests;
create trigger requests_touch_updated_at before update on public.requests
    for each row execute function public.lisa_touch_updated_at();

-- row-level security
alter table public.requests enable row level security;
alter table public.events enable row level security;

drop policy if exists "requests: owner reads" on public.requests;
create policy "requests: owner reads" on public.requests
    for select to authenticated using (user_id = (select auth.uid()));

drop policy if exists "events: owner of the request reads" on public.events;
create policy "events: owner of the request reads" on public.events
    for select to authenticated using (
        exists (select 1 from public.requests r where r.id = events.request_id and r.user_id = (select auth.uid()))
    );

-- a signed-in user creates their own request row, waiting (`queued`) for the backend; nothing else
drop policy if exists "requests: owner creates" on public.requests;
create policy "requests: owner creates" on public.requests
    for insert to authenticated with check (user_id = (select auth.uid()) and status = 'queued');

drop policy if exists "requests: service role writes" on public.requests;
create policy "requests: service role writes" on public.requests
    for all to service_role using (true) with check (true);
drop policy if exists "events: service role writes" on public.events;
create policy "events: service role writes" on public.events
    for all to service_role using (true) with check (true);

revoke all on public.requests, public.events from anon, authenticated;
grant select on public.requests, public.events to authenticated;
grant insert on public.requests to authenticated;
grant select, insert, update, delete on public.requests, public.events to service_role;
